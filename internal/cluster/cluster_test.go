// Package cluster_test runs several coffer nodes in one process on one
// PostgreSQL schema and checks that they behave as one service: concurrent
// writers on every node never produce the same revision nor lose a write,
// first starts on an empty database bootstrap exactly once, and the
// background jobs run on one node and move to another when it dies. It
// needs COFFER_TEST_POSTGRES; without it the tests skip.
package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// cluster is a set of nodes serving one store.
type cluster struct {
	nodes []*nodetest.Node
	ctxs  []context.Context // an admin context on each node
}

// startCluster starts n nodes on a fresh PostgreSQL schema, sharing a root
// key and a data directory (which holds only the first start's
// credentials).
func startCluster(t *testing.T, n int, opts ...nodetest.Option) *cluster {
	t.Helper()
	store := pgtest.NewSchema(t)
	dir, key := t.TempDir(), nodetest.NewRootKey()
	c := &cluster{}
	for range n {
		o := append([]nodetest.Option{nodetest.WithStore(store), nodetest.WithDataDir(dir, key)}, opts...)
		nd := nodetest.Start(t, o...)
		c.nodes = append(c.nodes, nd)
		c.ctxs = append(c.ctxs, admin(t, nd))
	}
	return c
}

// admin returns a context authenticated with the node's admin key.
func admin(t *testing.T, n *nodetest.Node) context.Context {
	t.Helper()
	caller, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return coffer.NewContextWithCaller(context.Background(), caller)
}

// eventually fails the test unless cond becomes true within d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
