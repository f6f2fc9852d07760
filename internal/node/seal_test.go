package node_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/seal"
)

// TestPassphraseSeal: a node sealed by a passphrase keeps no key file and
// the KDF parameters in the store; it restarts with the passphrase and
// reads what it wrote, and refuses to start with another passphrase or
// with a root key, saying why, having changed nothing.
func TestPassphraseSeal(t *testing.T) {
	const pass = "a passphrase long enough"
	n := nodetest.Start(t, nodetest.WithPassphrase(pass))
	ctx := as(t, n)
	id := write(t, ctx, n, "sealed", coffer.TypeOpaque, "by a passphrase")
	n.Stop(t)
	if _, err := os.Stat(filepath.Join(n.DataDir, node.RootKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("a passphrase seal left a key file: %v", err)
	}
	db := nodetest.OpenSQL(t, n.DataDir, n.Store)
	var stored []byte
	if err := db.QueryRow(`SELECT value FROM meta WHERE name = ?`, seal.KDFMeta).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.DecodeKDF(stored); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for name, c := range map[string]struct {
		cfg  func(*node.Config)
		want string
	}{
		"another passphrase": {func(c *node.Config) { c.Passphrase = []byte("another long passphrase") }, "the passphrase does not open this store"},
		"a root key":         {func(c *node.Config) { c.RootKey = nodetest.NewRootKey() }, "sealed by a passphrase"},
	} {
		cfg := node.Config{DataDir: n.DataDir, Store: n.Store}
		c.cfg(&cfg)
		if _, err := node.Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}

	again := nodetest.Start(t, nodetest.WithDataDir(n.DataDir, ""), nodetest.WithStore(n.Store), nodetest.WithPassphrase(pass))
	if got, err := read(as(t, again), again, id, coffer.Latest); err != nil || got != "by a passphrase" {
		t.Fatalf("after restart: %q, %v", got, err)
	}

	// A store sealed by a root key refuses a passphrase.
	byKey := nodetest.Start(t)
	byKey.Stop(t)
	_, err := node.Open(context.Background(), node.Config{DataDir: byKey.DataDir, Store: byKey.Store, Passphrase: []byte(pass)})
	if err == nil || !strings.Contains(err.Error(), "not by a passphrase") {
		t.Errorf("passphrase on a store sealed by a root key: err = %v", err)
	}
}
