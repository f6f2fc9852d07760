package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
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

// BenchmarkAccessLatestHTTP reads the latest version of secrets through the
// Scaleway API, from parallel callers, with the audit trail on and off:
// with it on, each answer waits until its record is committed (in groups).
// Few callers measure the latency a commit adds; many callers, the
// throughput group commit keeps. cpu-ns/op is the CPU the process spent
// per read, the writer's included.
func BenchmarkAccessLatestHTTP(b *testing.B) {
	forEachBackend(b, func(b *testing.B, backend string) {
		for _, tc := range []struct {
			trail       string
			parallelism int
		}{{"audit=off", benchParallelism}, {"audit=on", benchParallelism}, {"audit=off", 64}, {"audit=on", 64}} {
			trail := tc.trail
			b.Run(fmt.Sprintf("callers=%dxCPU/%s", tc.parallelism, trail), func(b *testing.B) {
				cfg := node.Config{DataDir: b.TempDir(), RootKey: nodetest.NewRootKey(), NoAudit: trail == "audit=off"}
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
				var paths []string
				for i := range benchSecrets {
					s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Credentials.ProjectID, Name: fmt.Sprintf("bench-%d", i)})
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload("a value of some thirty bytes..")}); err != nil {
						b.Fatal(err)
					}
					paths = append(paths, "http://coffer/secret-manager/v1beta1/regions/fr-par/secrets/"+s.ID+"/versions/latest/access")
				}
				h := n.Handler()
				var next atomic.Uint64
				b.SetParallelism(tc.parallelism)
				b.ResetTimer()
				cpu0 := cpuTime(b)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req := httptest.NewRequest(http.MethodGet, paths[next.Add(1)%benchSecrets], nil)
						req.Header.Set("X-Auth-Token", n.Credentials.SecretKey)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK {
							b.Errorf("status %d: %s", rec.Code, rec.Body)
							return
						}
					}
				})
				b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	})
}
