package node_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// benchSecrets is how many secrets the benchmarks spread their calls over.
const benchSecrets = 64

// benchParallelism is the goroutines per CPU of the parallel benchmarks: the
// calls wait on the store more than they compute.
const benchParallelism = 4

// benchNode opens a node on backend ("sqlite" or "postgres") with
// benchSecrets secrets of one version each, and returns an admin context
// and the secrets' ids.
func benchNode(b *testing.B, backend string) (*node.Node, context.Context, []string) {
	b.Helper()
	cfg := node.Config{DataDir: b.TempDir(), RootKey: nodetest.NewRootKey()}
	if backend == "postgres" {
		cfg.Store = pgtest.NewSchema(b)
	}
	return benchNodeWith(b, cfg)
}

// benchNodeWith opens a node with cfg and benchSecrets secrets of one
// version each, and returns an admin context and the secrets' ids.
func benchNodeWith(b *testing.B, cfg node.Config) (*node.Node, context.Context, []string) {
	b.Helper()
	n, err := node.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close(context.Background()) })
	caller, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Credentials.SecretKey)
	if err != nil {
		b.Fatal(err)
	}
	ctx := coffer.NewContextWithCaller(context.Background(), caller)
	var ids []string
	for i := range benchSecrets {
		s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Credentials.ProjectID, Name: fmt.Sprintf("bench-%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload("a value of some thirty bytes..")}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	return n, ctx, ids
}

// forEachBackend runs a benchmark on SQLite, and on PostgreSQL when a test
// database is configured.
func forEachBackend(b *testing.B, fn func(b *testing.B, backend string)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			if backend == "postgres" {
				pgtest.Require(b)
			}
			fn(b, backend)
		})
	}
}

// BenchmarkAccessLatest reads the latest version of secrets, decrypted,
// through the engine, from parallel callers.
func BenchmarkAccessLatest(b *testing.B) {
	forEachBackend(b, func(b *testing.B, backend string) {
		n, ctx, ids := benchNode(b, backend)
		var next atomic.Uint64
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := ids[next.Add(1)%benchSecrets]
				if _, _, _, err := n.Engine.AccessVersion(ctx, id, coffer.Latest); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkCreateVersion writes new versions of secrets through the engine,
// from parallel callers: each write seals the data, locks its secret,
// assigns the next revision and prunes beyond max_versions.
func BenchmarkCreateVersion(b *testing.B) {
	forEachBackend(b, func(b *testing.B, backend string) {
		n, ctx, ids := benchNode(b, backend)
		var next atomic.Uint64
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := ids[next.Add(1)%benchSecrets]
				if _, _, err := n.Engine.CreateVersion(ctx, id, coffer.VersionCreate{Data: coffer.Payload("a new value of some bytes")}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
