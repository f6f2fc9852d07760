package node_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// cpuTime returns the CPU time the process has used, user and system. Per
// operation, it is the cost of a read that does not depend on what else
// the machine runs, as wall time per operation does on a shared VM; with
// every core busy, throughput is cores over it.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readTarget is a node with benchSecrets secrets, read through the
// Scaleway API: either by calling its handler in process, the cheapest
// read the server has and the one the cost of the audit trail weighs the
// most on, or over loopback HTTP, as clients read, with the client in the
// same process and on the same cores.
type readTarget struct {
	n      *node.Node
	h      http.Handler
	client *http.Client // nil: in process
	token  string
	paths  []string
	next   atomic.Uint64
}

// overHTTP serves the target on a loopback listener and reads through it.
func (t *readTarget) overHTTP(b *testing.B, callers int) *readTarget {
	srv := httptest.NewServer(t.h)
	b.Cleanup(srv.Close)
	u := &readTarget{n: t.n, h: t.h, token: t.token, client: srv.Client()}
	u.client.Transport.(*http.Transport).MaxIdleConnsPerHost = callers
	for _, p := range t.paths {
		u.paths = append(u.paths, srv.URL+strings.TrimPrefix(p, "http://coffer"))
	}
	return u
}

func newReadTarget(b *testing.B, backend string, audit bool) *readTarget {
	b.Helper()
	cfg := node.Config{DataDir: b.TempDir(), RootKey: nodetest.NewRootKey(), NoAudit: !audit}
	if backend == "postgres" {
		cfg.Store = pgtest.NewSchema(b)
	}
	n, _, ids := benchNodeWith(b, cfg)
	t := &readTarget{n: n, h: n.Handler(), token: n.Credentials.SecretKey}
	for _, id := range ids {
		t.paths = append(t.paths, "http://coffer/secret-manager/v1beta1/regions/fr-par/secrets/"+id+"/versions/latest/access")
	}
	return t
}

// read reads the latest version of the next secret.
func (t *readTarget) read(b *testing.B) bool {
	if t.client != nil {
		return t.readHTTP(b)
	}
	req := httptest.NewRequest(http.MethodGet, t.paths[t.next.Add(1)%benchSecrets], nil)
	req.Header.Set("X-Auth-Token", t.token)
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("status %d: %s", rec.Code, rec.Body)
		return false
	}
	return true
}

func (t *readTarget) readHTTP(b *testing.B) bool {
	req, err := http.NewRequest(http.MethodGet, t.paths[t.next.Add(1)%benchSecrets], nil)
	if err != nil {
		b.Error(err)
		return false
	}
	req.Header.Set("X-Auth-Token", t.token)
	resp, err := t.client.Do(req)
	if err != nil {
		b.Error(err)
		return false
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		b.Errorf("status %d, %v", resp.StatusCode, err)
		return false
	}
	return true
}

// runFor has callers goroutines run op for d, until it fails, and returns
// how many ops they made and the wall and process CPU time it took: one
// side of a pair of rounds in the paired benchmarks of this package.
func runFor(b *testing.B, callers int, d time.Duration, op func(*testing.B) bool) (ops int64, wall, cpu time.Duration) {
	var n atomic.Int64
	var wg sync.WaitGroup
	cpu0, start := cpuTime(b), time.Now()
	deadline := start.Add(d)
	for range callers {
		wg.Go(func() {
			for time.Now().Before(deadline) && op(b) {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return n.Load(), time.Since(start), cpuTime(b) - cpu0
}

// runFor has callers goroutines read for d (see runFor).
func (t *readTarget) runFor(b *testing.B, callers int, d time.Duration) (reads int64, wall, cpu time.Duration) {
	return runFor(b, callers, d, t.read)
}

// BenchmarkAccessLatestHTTP reads the latest version of secrets through the
// Scaleway API, from parallel callers, with the audit trail on and off:
// with it on, each answer waits until its record is committed (in groups).
// Few callers measure the latency a commit adds; many callers, the
// throughput group commit keeps. cpu-ns/op is the CPU the process spent
// per read, the writer's included. For the cost of the trail, see
// BenchmarkAuditCost, which pairs its measurements.
func BenchmarkAccessLatestHTTP(b *testing.B) {
	forEachBackend(b, func(b *testing.B, backend string) {
		for _, tc := range []struct {
			trail       string
			parallelism int
		}{{"audit=off", benchParallelism}, {"audit=on", benchParallelism}, {"audit=off", 64}, {"audit=on", 64}} {
			b.Run(fmt.Sprintf("callers=%dxCPU/%s", tc.parallelism, tc.trail), func(b *testing.B) {
				t := newReadTarget(b, backend, tc.trail == "audit=on")
				b.SetParallelism(tc.parallelism)
				b.ResetTimer()
				cpu0 := cpuTime(b)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() && t.read(b) {
					}
				})
				b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	})
}

// auditRound is how long one side of a pair of rounds of
// BenchmarkAuditCost lasts.
const auditRound = 200 * time.Millisecond

// BenchmarkAuditCost measures what the audit trail costs read throughput:
// two nodes on one backend, one with the trail and one without, serve the
// same reads in alternating rounds of auditRound. A shared VM's speed
// drifts by more than the cost being measured, within seconds; paired
// rounds see the same drift, so their ratio holds where two benchmarks run
// one after the other do not. One op is one pair of rounds: run it with
// -benchtime=Nx for N pairs.
//
// Metrics: off-ns/read and on-ns/read, wall time per read with every
// caller busy (the inverse of throughput); cost-% = on/off - 1; the CPU
// time of the process per read on each side; records per commit.
func BenchmarkAuditCost(b *testing.B) {
	forEachBackend(b, func(b *testing.B, backend string) {
		offNode, onNode := newReadTarget(b, backend, false), newReadTarget(b, backend, true)
		for _, tc := range []struct {
			via     string
			callers int
		}{{"handler", 8}, {"handler", 32}, {"handler", 128}, {"http", 128}} {
			callers, off, on := tc.callers, offNode, onNode
			if tc.via == "http" {
				off, on = off.overHTTP(b, callers), on.overHTTP(b, callers)
			}
			b.Run(fmt.Sprintf("via=%s/callers=%d", tc.via, callers), func(b *testing.B) {
				// A first pair warms both nodes' caches and connections.
				off.runFor(b, callers, auditRound/4)
				on.runFor(b, callers, auditRound/4)
				stats0 := on.n.AuditStats()
				var sides [2]struct {
					reads     int64
					wall, cpu time.Duration
				}
				b.ResetTimer()
				for i := range b.N {
					for j := range 2 {
						side := (i + j) % 2 // 0 off, 1 on; each pair starts with the other
						reads, wall, cpu := []*readTarget{off, on}[side].runFor(b, callers, auditRound)
						sides[side].reads += reads
						sides[side].wall += wall
						sides[side].cpu += cpu
					}
				}
				b.StopTimer()
				perRead := func(d time.Duration, reads int64) float64 { return float64(d.Nanoseconds()) / float64(max(reads, 1)) }
				offNs, onNs := perRead(sides[0].wall, sides[0].reads), perRead(sides[1].wall, sides[1].reads)
				b.ReportMetric(offNs, "off-ns/read")
				b.ReportMetric(onNs, "on-ns/read")
				b.ReportMetric((onNs/offNs-1)*100, "cost-%")
				b.ReportMetric(perRead(sides[0].cpu, sides[0].reads), "off-cpu-ns/read")
				b.ReportMetric(perRead(sides[1].cpu, sides[1].reads), "on-cpu-ns/read")
				if st := on.n.AuditStats(); st.Commits > stats0.Commits {
					b.ReportMetric(float64(st.Records-stats0.Records)/float64(st.Commits-stats0.Commits), "records/commit")
				}
			})
		}
	})
}
