package nodetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/seal"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
)

// OpenEngine opens another engine on the node's store and root key, as a
// second node's would be, with no server or jobs of its own; now is its
// clock (time.Now when nil). Its store is wrap(store) when wrap is not nil,
// so that a test can see the transactions the engine opens. The store is
// closed when t ends.
func (n *Node) OpenEngine(t testing.TB, now func() time.Time, wrap func(storage.Store) storage.Store) *engine.Engine {
	t.Helper()
	ctx := context.Background()
	if now == nil {
		now = time.Now
	}
	var (
		db  storage.Store
		err error
	)
	if n.Store == "" {
		db, err = sqlite.Open(filepath.Join(n.DataDir, node.DatabaseFile))
	} else {
		db, err = postgres.Open(ctx, n.Store, postgres.Options{})
	}
	if err != nil {
		t.Fatalf("open the node's store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	store := db
	if wrap != nil {
		store = wrap(db)
	}
	root, _, err := seal.Load(seal.Config{EnvKey: n.RootKey})
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Open(ctx, store, root, now)
	if err != nil {
		t.Fatalf("open the keyring: %v", err)
	}
	return engine.New(engine.Config{Store: store, Keyring: kr, Now: now})
}
