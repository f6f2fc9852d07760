package node_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// writeTarget is a SQLite node with benchSecrets secrets, to which versions
// are added through the Scaleway API's handler, in process, with the audit
// trail on: each write commits its pending record with the version, and
// its answer waits for the record's commit in the trail.
type writeTarget struct {
	h     http.Handler
	token string
	paths []string
	body  string
	next  atomic.Uint64
}

func newWriteTarget(b *testing.B, o sqlite.Options) *writeTarget {
	b.Helper()
	n, _, ids := benchNodeWith(b, node.Config{DataDir: b.TempDir(), RootKey: nodetest.NewRootKey(), SQLite: o})
	t := &writeTarget{
		h:     n.Handler(),
		token: n.Credentials.SecretKey,
		body:  fmt.Sprintf(`{"data":%q}`, base64.StdEncoding.EncodeToString([]byte("a new value of some thirty bytes"))),
	}
	for _, id := range ids {
		t.paths = append(t.paths, "http://coffer/secret-manager/v1beta1/regions/fr-par/secrets/"+id+"/versions")
	}
	return t
}

// write adds a version to the next secret.
func (t *writeTarget) write(b *testing.B) bool {
	req := httptest.NewRequest(http.MethodPost, t.paths[t.next.Add(1)%benchSecrets], strings.NewReader(t.body))
	req.Header.Set("X-Auth-Token", t.token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("status %d: %s", rec.Code, rec.Body)
		return false
	}
	return true
}

// runFor has writers goroutines write for d (see runFor).
func (t *writeTarget) runFor(b *testing.B, writers int, d time.Duration) (writes int64, wall, cpu time.Duration) {
	return runFor(b, writers, d, t.write)
}

// writeRound is how long one side of a pair of rounds of
// BenchmarkWriteBatching lasts.
const writeRound = 300 * time.Millisecond

// BenchmarkWriteBatching measures what SQLite's group commit does to the
// throughput of version creations through the whole server (handler,
// engine, sealing, audit trail): two nodes, one with sqlite.Options
// Unbatched (every write its own commit, as coffer did before) and one
// with the default, take the same writes in alternating rounds of
// writeRound, so that both see the same drift of a shared machine. One op
// is one pair of rounds: run it with -benchtime=Nx for N pairs.
//
// Metrics: off-us/write and on-us/write, wall time per write with every
// writer busy (the inverse of throughput); speedup = off/on, the ratio of
// throughputs; the process's CPU time per write on each side.
func BenchmarkWriteBatching(b *testing.B) {
	off, on := newWriteTarget(b, sqlite.Options{Unbatched: true}), newWriteTarget(b, sqlite.Options{})
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			off.runFor(b, writers, writeRound/5) // warm both
			on.runFor(b, writers, writeRound/5)
			var sides [2]struct {
				writes    int64
				wall, cpu time.Duration
			}
			b.ResetTimer()
			for i := range b.N {
				for j := range 2 {
					side := (i + j) % 2 // 0 off, 1 on; each pair starts with the other
					writes, wall, cpu := []*writeTarget{off, on}[side].runFor(b, writers, writeRound)
					sides[side].writes += writes
					sides[side].wall += wall
					sides[side].cpu += cpu
				}
			}
			b.StopTimer()
			per := func(d time.Duration, n int64) float64 { return float64(d.Microseconds()) / float64(max(n, 1)) }
			offWall, onWall := per(sides[0].wall, sides[0].writes), per(sides[1].wall, sides[1].writes)
			b.ReportMetric(offWall, "off-us/write")
			b.ReportMetric(onWall, "on-us/write")
			b.ReportMetric(offWall/onWall, "speedup")
			b.ReportMetric(per(sides[0].cpu, sides[0].writes), "off-cpu-us/write")
			b.ReportMetric(per(sides[1].cpu, sides[1].writes), "on-cpu-us/write")
			b.ReportMetric(0, "ns/op")
		})
	}
}
