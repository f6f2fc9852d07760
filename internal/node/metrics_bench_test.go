package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// newGuardedTarget is newVaultTarget's node, on SQLite with the read cache,
// with or without its metrics and rate limits: limits that never refuse,
// so that what is measured is their cost (a lookup of the source and of
// the key, two token buckets, the count of requests under way).
func newGuardedTarget(b *testing.B, audit, guarded bool) *vaultTarget {
	b.Helper()
	cfg := node.Config{DataDir: b.TempDir(), RootKey: nodetest.NewRootKey(), NoAudit: !audit}
	if guarded {
		cfg.Metrics = true
		cfg.RateLimits = limit.Config{
			Key: limit.Rate{PerSecond: 1e9, Burst: 1e9}, Source: limit.Rate{PerSecond: 1e9, Burst: 1e9},
			MaxConcurrent: 1 << 20, AuthFailures: 20,
		}
	}
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
	t := &vaultTarget{n: n, h: n.Handler(), token: n.Credentials.SecretKey}
	for i := range benchSecrets {
		name := fmt.Sprintf("bench-%d", i)
		_, _, err := n.Engine.CreateVersion(ctx, "", coffer.VersionCreate{
			Data:         coffer.Payload(`{"user":"app","password":"a value of some thirty bytes"}`),
			CreateSecret: &coffer.SecretCreate{ProjectID: n.Credentials.ProjectID, Name: name},
		})
		if err != nil {
			b.Fatal(err)
		}
		t.paths = append(t.paths, "http://coffer/v1/secret/data/"+name)
	}
	return t
}

// BenchmarkMetricsCost measures what metrics and rate limits add to the
// cheapest read, a Vault KV v2 GET answered from the read cache in
// process: two nodes, one with both and one with neither, serve the same
// reads in alternating rounds (see BenchmarkReadCache). One op is one pair
// of rounds: run it with -benchtime=Nx.
//
// Metrics: off-cpu-ns/read and on-cpu-ns/read, the process's CPU per read
// on each side; cost-% = on/off - 1 of the CPU; wall-ratio = on/off of the
// wall time per read.
func BenchmarkMetricsCost(b *testing.B) {
	for _, audit := range []bool{false, true} {
		b.Run(fmt.Sprintf("audit=%v", audit), func(b *testing.B) {
			off, on := newGuardedTarget(b, audit, false), newGuardedTarget(b, audit, true)
			const callers = 16
			off.runFor(b, callers, auditRound/4)
			on.runFor(b, callers, auditRound/4)
			var sides [2]struct {
				reads     int64
				wall, cpu time.Duration
			}
			b.ResetTimer()
			for i := range b.N {
				for j := range 2 {
					side := (i + j) % 2
					reads, wall, cpu := []*vaultTarget{off, on}[side].runFor(b, callers, auditRound)
					sides[side].reads += reads
					sides[side].wall += wall
					sides[side].cpu += cpu
				}
			}
			b.StopTimer()
			perRead := func(d time.Duration, reads int64) float64 { return float64(d.Nanoseconds()) / float64(max(reads, 1)) }
			offCPU, onCPU := perRead(sides[0].cpu, sides[0].reads), perRead(sides[1].cpu, sides[1].reads)
			b.ReportMetric(offCPU, "off-cpu-ns/read")
			b.ReportMetric(onCPU, "on-cpu-ns/read")
			b.ReportMetric(100*(onCPU/offCPU-1), "cost-%")
			b.ReportMetric(perRead(sides[1].wall, sides[1].reads)/perRead(sides[0].wall, sides[0].reads), "wall-ratio")
		})
	}
}
