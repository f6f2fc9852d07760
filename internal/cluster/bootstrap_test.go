package cluster_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// openConcurrently opens one node per root key, all at once, on one empty
// store, each with a data directory of its own, and returns what each Open
// returned. The nodes are closed when t ends.
func openConcurrently(t *testing.T, store string, keys []string) ([]*node.Node, []error) {
	t.Helper()
	nodes := make([]*node.Node, len(keys))
	errs := make([]error, len(keys))
	dir := t.TempDir()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, key := range keys {
		wg.Go(func() {
			<-start
			nodes[i], errs[i] = node.Open(context.Background(), node.Config{
				DataDir: filepath.Join(dir, string(rune('a'+i))), Store: store, RootKey: key,
			})
		})
	}
	close(start)
	wg.Wait()
	t.Cleanup(func() {
		for _, n := range nodes {
			if n != nil {
				n.Close(context.Background())
			}
		}
	})
	return nodes, errs
}

// TestConcurrentFirstStart starts nodes together on an empty database:
// exactly one bootstraps (one organization, one set of admin credentials),
// and the others start on what it created.
func TestConcurrentFirstStart(t *testing.T) {
	pgtest.Require(t)
	store := pgtest.NewSchema(t)
	key := nodetest.NewRootKey()
	nodes, errs := openConcurrently(t, store, []string{key, key, key, key})
	bootstrapped := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if nodes[i].Credentials != nil {
			bootstrapped++
		}
	}
	if bootstrapped != 1 {
		t.Fatalf("%d nodes bootstrapped, want 1", bootstrapped)
	}
	var orgs, keys int
	db := nodetest.OpenSQL(t, "", store)
	if err := db.QueryRow(`SELECT COUNT(*) FROM organizations`).Scan(&orgs); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM api_keys`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if orgs != 1 || keys != 1 {
		t.Errorf("%d organizations and %d API keys, want 1 each", orgs, keys)
	}
}

// TestConcurrentFirstStartWrongKeys starts nodes with different root keys
// together on an empty database: the first to record its key wins, every
// other fails with ErrWrongRootKey.
func TestConcurrentFirstStartWrongKeys(t *testing.T) {
	pgtest.Require(t)
	store := pgtest.NewSchema(t)
	keys := []string{nodetest.NewRootKey(), nodetest.NewRootKey(), nodetest.NewRootKey()}
	_, errs := openConcurrently(t, store, keys)
	started := 0
	for i, err := range errs {
		switch {
		case err == nil:
			started++
		case !errors.Is(err, keyring.ErrWrongRootKey):
			t.Errorf("node %d: %v, want ErrWrongRootKey or success", i, err)
		}
	}
	if started != 1 {
		t.Errorf("%d nodes with different root keys started, want 1", started)
	}
}
