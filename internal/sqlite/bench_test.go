package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/uuid"
)

// benchSecret stores a project and a secret with one version of 1 KiB of
// data, as the engine would seal a typical value.
func benchSecret(b *testing.B) (*coffer.Secret, storage.Store) {
	b.Helper()
	db := open(b, filepath.Join(b.TempDir(), "coffer.db"))
	return benchSecrets(b, db, 1)[0], db
}

// benchSecrets stores a project and n secrets with one version each.
func benchSecrets(b *testing.B, db storage.Store, n int) []*coffer.Secret {
	b.Helper()
	ctx := b.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	org := &coffer.Organization{ID: uuid.NewString(), Name: "acme", CreatedAt: now}
	p := &coffer.Project{ID: uuid.NewString(), OrganizationID: org.ID, Name: "default", CreatedAt: now, UpdatedAt: now}
	var secrets []*coffer.Secret
	for i := range n {
		secrets = append(secrets, &coffer.Secret{
			ID: uuid.NewString(), ProjectID: p.ID, Path: "/apps/api", Name: fmt.Sprint("db-", i), Type: coffer.TypeKeyValue,
			Tags: []string{"prod", "db"}, CustomMetadata: map[string]string{"owner": "ops"},
			State: coffer.SecretEnabled, LastRevision: 1, LatestRevision: 1, VersionCount: 1,
			Stages: map[string]uint32{coffer.StageActive: 1}, CreatedAt: now, UpdatedAt: now,
		})
	}
	err := db.Update(ctx, func(tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, p); err != nil {
			return err
		}
		for _, s := range secrets {
			if err := tx.CreateSecret(ctx, s); err != nil {
				return err
			}
			if err := tx.CreateVersion(ctx, benchVersion(s, 1, now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return secrets
}

func benchVersion(s *coffer.Secret, rev uint32, now time.Time) *storage.Version {
	return &storage.Version{
		Version: coffer.Version{
			SecretID: s.ID, Revision: rev, State: coffer.VersionEnabled, Size: 1024,
			CreatedBy: "bench", CreatedAt: now, UpdatedAt: now,
		},
		ProjectID: s.ProjectID,
		Data:      make([]byte, 1024+28), // a sealed 1 KiB value
	}
}

// BenchmarkView_GetSecretGetVersion measures the read path of an access:
// one read transaction that loads a secret and its version's data.
func BenchmarkView_GetSecretGetVersion(b *testing.B) {
	s, db := benchSecret(b)
	ctx := b.Context()
	read := func(tx storage.Tx) error {
		if _, err := tx.GetSecret(ctx, s.ID); err != nil {
			return err
		}
		_, err := tx.GetVersion(ctx, s.ID, 1)
		return err
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := db.View(ctx, read); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := db.View(ctx, read); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkUpdate_CreateVersion measures the write path of a new version:
// one durable write transaction that locks the secret, adds a version and
// updates the secret.
func BenchmarkUpdate_CreateVersion(b *testing.B) {
	s, db := benchSecret(b)
	ctx := b.Context()
	for b.Loop() {
		if err := db.Update(ctx, func(tx storage.Tx) error { return addVersion(b, tx, s.ID) }); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writeTarget is a store with secrets to add versions to.
type writeTarget struct {
	db      *sqlite.DB
	secrets []*coffer.Secret
	next    atomic.Uint64
}

func newWriteTarget(b *testing.B, o sqlite.Options) *writeTarget {
	db, err := sqlite.OpenOptions(filepath.Join(b.TempDir(), "coffer.db"), o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return &writeTarget{db: db, secrets: benchSecrets(b, db, 64)}
}

// runFor has writers goroutines add versions for d, and returns how many
// they added and the wall and CPU time it took.
func (t *writeTarget) runFor(b *testing.B, writers int, d time.Duration) (writes int64, wall, cpu time.Duration) {
	var n atomic.Int64
	var wg sync.WaitGroup
	cpu0, start := cpuTime(b), time.Now()
	deadline := start.Add(d)
	for range writers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				id := t.secrets[t.next.Add(1)%uint64(len(t.secrets))].ID
				if err := t.db.Update(b.Context(), func(tx storage.Tx) error { return addVersion(b, tx, id) }); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return n.Load(), time.Since(start), cpuTime(b) - cpu0
}

// writeRound is how long one side of a pair of rounds of
// BenchmarkGroupCommit lasts.
const writeRound = 250 * time.Millisecond

// BenchmarkGroupCommit measures what group commit does to write throughput:
// two stores, one with batched Updates and one without (Options.Unbatched,
// every Update its own commit), take the same writes, versions added to 64
// secrets, in alternating rounds of writeRound, so that both see the same
// drift of a shared machine. One op is one pair of rounds: run it with
// -benchtime=Nx for N pairs.
//
// Metrics: off-us/write and on-us/write, wall time per write with every
// writer busy (the inverse of throughput); speedup = off/on, the ratio of
// throughputs; CPU time of the process per write on each side; writes per
// commit with batching.
func BenchmarkGroupCommit(b *testing.B) {
	off, on := newWriteTarget(b, sqlite.Options{Unbatched: true}), newWriteTarget(b, sqlite.Options{})
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			off.runFor(b, writers, writeRound/5) // warm both
			on.runFor(b, writers, writeRound/5)
			stats0 := on.db.Stats()
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
			stats := on.db.Stats()
			b.ReportMetric(float64(stats.Updates-stats0.Updates)/float64(max(stats.Commits-stats0.Commits, 1)), "writes/commit")
			b.ReportMetric(0, "ns/op")
		})
	}
}
