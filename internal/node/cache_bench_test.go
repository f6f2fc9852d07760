package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// vaultTarget is a node with benchSecrets key-value secrets, read through
// the Vault KV v2 API in process.
type vaultTarget struct {
	n     *node.Node
	h     http.Handler
	token string
	paths []string
	next  atomic.Uint64
}

func newVaultTarget(b *testing.B, backend string, audit, readCache bool) *vaultTarget {
	b.Helper()
	cfg := node.Config{DataDir: b.TempDir(), RootKey: nodetest.NewRootKey(), NoAudit: !audit, NoReadCache: !readCache}
	if backend == "postgres" {
		cfg.Store = pgtest.NewSchema(b)
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

func (t *vaultTarget) read(b *testing.B) bool {
	req := httptest.NewRequest(http.MethodGet, t.paths[t.next.Add(1)%benchSecrets], nil)
	req.Header.Set("X-Vault-Token", t.token)
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("status %d: %s", rec.Code, rec.Body)
		return false
	}
	return true
}

func (t *vaultTarget) runFor(b *testing.B, callers int, d time.Duration) (reads int64, wall, cpu time.Duration) {
	return runFor(b, callers, d, t.read)
}

// BenchmarkReadCache measures what the read cache saves a Vault KV v2 GET:
// two nodes on one backend, one with the cache and one without, serve the
// same reads in alternating rounds of auditRound, as BenchmarkAuditCost
// pairs its rounds (a shared VM's drift cancels out of the ratio). One op
// is one pair of rounds: run it with -benchtime=Nx.
//
// Metrics: off-ns/read and on-ns/read, wall time per read with every
// caller busy; speedup = off/on; the CPU time of the process per read on
// each side, and their ratio; the cache's hit rate.
func BenchmarkReadCache(b *testing.B) {
	forEachBackend(b, func(b *testing.B, backend string) {
		for _, audit := range []bool{false, true} {
			b.Run(fmt.Sprintf("audit=%v", audit), func(b *testing.B) {
				off, on := newVaultTarget(b, backend, audit, false), newVaultTarget(b, backend, audit, true)
				const callers = 16
				off.runFor(b, callers, auditRound/4)
				on.runFor(b, callers, auditRound/4)
				stats0, _ := on.n.ReadCacheStats()
				var sides [2]struct {
					reads     int64
					wall, cpu time.Duration
				}
				b.ResetTimer()
				for i := range b.N {
					for j := range 2 {
						side := (i + j) % 2 // 0 off, 1 on; each pair starts with the other
						reads, wall, cpu := []*vaultTarget{off, on}[side].runFor(b, callers, auditRound)
						sides[side].reads += reads
						sides[side].wall += wall
						sides[side].cpu += cpu
					}
				}
				b.StopTimer()
				perRead := func(d time.Duration, reads int64) float64 { return float64(d.Nanoseconds()) / float64(max(reads, 1)) }
				offNs, onNs := perRead(sides[0].wall, sides[0].reads), perRead(sides[1].wall, sides[1].reads)
				offCPU, onCPU := perRead(sides[0].cpu, sides[0].reads), perRead(sides[1].cpu, sides[1].reads)
				b.ReportMetric(offNs, "off-ns/read")
				b.ReportMetric(onNs, "on-ns/read")
				b.ReportMetric(offNs/onNs, "speedup")
				b.ReportMetric(offCPU, "off-cpu-ns/read")
				b.ReportMetric(onCPU, "on-cpu-ns/read")
				b.ReportMetric(offCPU/onCPU, "cpu-ratio")
				if st, _ := on.n.ReadCacheStats(); st.Hits+st.Misses > stats0.Hits+stats0.Misses {
					b.ReportMetric(100*float64(st.Hits-stats0.Hits)/float64(st.Hits+st.Misses-stats0.Hits-stats0.Misses), "hit-%")
				}
			})
		}
	})
}
