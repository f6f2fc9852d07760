package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
)

// openBatched opens a store whose batches take every queued Update, so
// that a test decides what one batch holds.
func openBatched(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.OpenOptions(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{MaxBatch: 1000, MaxBatchTime: time.Minute})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// hold starts an Update that holds the write connection until release is
// called, which returns its error: it runs alone, and the Updates started
// meanwhile queue, and run in one batch after it.
func hold(t *testing.T, db *sqlite.DB) (release func() error) {
	t.Helper()
	inside, out := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Update(t.Context(), func(tx storage.Tx) error {
			close(inside)
			<-out
			return tx.PutMeta(t.Context(), "holder", []byte("x"))
		})
	}()
	<-inside
	return func() error {
		close(out)
		return <-done
	}
}

// waitQueued waits until n Updates wait in db's queue.
func waitQueued(t *testing.T, db *sqlite.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for db.Queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d Updates queued, want %d", db.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// meta returns the value of a meta name, or "" when it has none.
func meta(t *testing.T, db storage.Store, name string) string {
	t.Helper()
	var v []byte
	err := db.View(t.Context(), func(tx storage.Tx) error {
		var err error
		v, err = tx.GetMeta(t.Context(), name)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

func TestConcurrentUpdatesShareCommits(t *testing.T) {
	for _, o := range []sqlite.Options{{}, {Unbatched: true}} {
		t.Run(fmt.Sprintf("unbatched=%v", o.Unbatched), func(t *testing.T) {
			db, err := sqlite.OpenOptions(filepath.Join(t.TempDir(), "coffer.db"), o)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			s, _ := fixture(t, db)
			before := db.Stats()

			// Each writer adds a version to the one secret: revisions
			// come one after another, each fn seeing those before it.
			const writers, each = 32, 5
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						err := db.Update(t.Context(), func(tx storage.Tx) error {
							if err := tx.PutMeta(t.Context(), fmt.Sprint("w", w, "-", i), []byte("v")); err != nil {
								return err
							}
							return addVersion(t, tx, s.ID)
						})
						if err != nil {
							t.Errorf("Update: %v", err)
						}
					}
				})
			}
			wg.Wait()

			for w := range writers {
				for i := range each {
					if got := meta(t, db, fmt.Sprint("w", w, "-", i)); got != "v" {
						t.Fatalf("w%d-%d = %q after Update returned", w, i, got)
					}
				}
			}
			wantRevisions(t, db, s.ID, 1+writers*each)
			stats := db.Stats()
			updates, commits := stats.Updates-before.Updates, stats.Commits-before.Commits
			t.Logf("%d updates, %d commits", updates, commits)
			if updates != writers*each {
				t.Errorf("%d updates counted, want %d", updates, writers*each)
			}
			if o.Unbatched && commits != updates {
				t.Errorf("unbatched: %d commits for %d updates", commits, updates)
			}
			if !o.Unbatched && commits >= updates {
				t.Errorf("batched: %d commits for %d updates, want fewer", commits, updates)
			}
		})
	}
}

func TestBatchedCallFailsAlone(t *testing.T) {
	db := openBatched(t)
	before := db.Stats()
	release := hold(t, db)
	errFailed := errors.New("failed")
	fns := map[string]func(ctx context.Context, tx storage.Tx) error{
		"a": func(ctx context.Context, tx storage.Tx) error { return tx.PutMeta(ctx, "a", []byte("a")) },
		"b": func(ctx context.Context, tx storage.Tx) error {
			if err := tx.PutMeta(ctx, "b", []byte("b")); err != nil {
				return err
			}
			if err := tx.PutMeta(ctx, "a", []byte("b's")); err != nil {
				return err
			}
			return errFailed
		},
		"c": func(ctx context.Context, tx storage.Tx) error { return tx.PutMeta(ctx, "c", []byte("c")) },
	}
	// They queue, and run, in this order: b overwrites what a wrote.
	errs := map[string]chan error{}
	for _, name := range []string{"a", "b", "c"} {
		errs[name] = make(chan error, 1)
		go func() {
			errs[name] <- db.Update(t.Context(), func(tx storage.Tx) error { return fns[name](t.Context(), tx) })
		}()
		waitQueued(t, db, len(errs))
	}
	if err := release(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	if err := <-errs["a"]; err != nil {
		t.Errorf("a: %v", err)
	}
	if err := <-errs["b"]; err != errFailed {
		t.Errorf("b: %v, want its own error as it returned it", err)
	}
	if err := <-errs["c"]; err != nil {
		t.Errorf("c: %v", err)
	}
	for name, want := range map[string]string{"holder": "x", "a": "a", "b": "", "c": "c"} {
		if got := meta(t, db, name); got != want {
			t.Errorf("meta %s = %q, want %q", name, got, want)
		}
	}
	stats := db.Stats()
	if n := stats.Commits - before.Commits; n != 2 {
		t.Errorf("%d commits, want 2: the holder's, alone, and the batch's", n)
	}
	if n := stats.Updates - before.Updates; n != 4 {
		t.Errorf("%d updates, want 4", n)
	}
}

func TestBatchedPanicUnwindsItsCaller(t *testing.T) {
	db := openBatched(t)
	release := hold(t, db)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		db.Update(t.Context(), func(tx storage.Tx) error {
			if err := tx.PutMeta(t.Context(), "panicked", []byte("x")); err != nil {
				t.Error(err)
			}
			panic("boom")
		})
	}()
	waitQueued(t, db, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		db.Update(t.Context(), func(tx storage.Tx) error {
			if err := tx.PutMeta(t.Context(), "exited", []byte("x")); err != nil {
				t.Error(err)
			}
			runtime.Goexit() // as t.Fatal does
			return nil
		})
		t.Error("Update returned after its fn called runtime.Goexit")
	}()
	waitQueued(t, db, 2)
	other := make(chan error, 1)
	go func() {
		other <- db.Update(t.Context(), func(tx storage.Tx) error { return tx.PutMeta(t.Context(), "other", []byte("x")) })
	}()
	waitQueued(t, db, 3)
	if err := release(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	if got := <-panicked; got != "boom" {
		t.Errorf("recovered %v in the panicking caller, want boom", got)
	}
	<-exited
	if err := <-other; err != nil {
		t.Errorf("the other caller: %v", err)
	}
	for name, want := range map[string]string{"holder": "x", "panicked": "", "exited": "", "other": "x"} {
		if got := meta(t, db, name); got != want {
			t.Errorf("meta %s = %q, want %q", name, got, want)
		}
	}
}

func TestBatchedCallCanceled(t *testing.T) {
	db := openBatched(t)
	release := hold(t, db)

	// Canceled while queued: fn never runs.
	queuedCtx, cancelQueued := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() {
		queued <- db.Update(queuedCtx, func(tx storage.Tx) error {
			t.Error("fn of a caller canceled while queued ran")
			return nil
		})
	}()
	waitQueued(t, db, 1)
	cancelQueued()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("caller canceled while queued: %v, want context.Canceled", err)
	}

	// Canceled while its fn runs: its next statement fails, and fn's
	// writes are undone; the others of the batch commit.
	runCtx, cancelRun := context.WithCancel(t.Context())
	running := make(chan error, 1)
	go func() {
		running <- db.Update(runCtx, func(tx storage.Tx) error {
			if err := tx.PutMeta(runCtx, "canceled-1", []byte("x")); err != nil {
				return err
			}
			cancelRun()
			return tx.PutMeta(runCtx, "canceled-2", []byte("x"))
		})
	}()
	waitQueued(t, db, 1)
	after := make(chan error, 1)
	go func() {
		after <- db.Update(t.Context(), func(tx storage.Tx) error { return tx.PutMeta(t.Context(), "after", []byte("x")) })
	}()
	waitQueued(t, db, 2)
	if err := release(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	if err := <-running; !errors.Is(err, context.Canceled) {
		t.Errorf("caller canceled in its fn: %v, want context.Canceled", err)
	}
	if err := <-after; err != nil {
		t.Errorf("the caller after: %v", err)
	}
	for name, want := range map[string]string{"holder": "x", "canceled-1": "", "canceled-2": "", "after": "x"} {
		if got := meta(t, db, name); got != want {
			t.Errorf("meta %s = %q, want %q", name, got, want)
		}
	}
}

func TestCloseRunsQueuedUpdates(t *testing.T) {
	db, err := sqlite.OpenOptions(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{MaxBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	release := hold(t, db)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- db.Update(t.Context(), func(tx storage.Tx) error { return tx.PutMeta(t.Context(), fmt.Sprint(i), []byte("x")) })
		}()
	}
	waitQueued(t, db, n)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	if err := release(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Update queued before Close: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := db.Update(t.Context(), func(tx storage.Tx) error { return nil }); err == nil {
		t.Error("Update after Close succeeded")
	}
}

// addVersion adds the next revision to secret id, as the engine does.
func addVersion(t testing.TB, tx storage.Tx, id string) error {
	ctx := t.Context()
	cur, err := tx.GetSecret(ctx, id)
	if err != nil {
		return err
	}
	rev := cur.LastRevision + 1
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := tx.CreateVersion(ctx, benchVersion(cur, rev, now)); err != nil {
		return err
	}
	cur.LastRevision, cur.LatestRevision = rev, rev
	cur.VersionCount++
	cur.UpdatedAt = now
	return tx.UpdateSecret(ctx, cur)
}

// wantRevisions fails unless secret id has revisions 1 to n.
func wantRevisions(t *testing.T, db storage.Store, id string, n int) {
	t.Helper()
	err := db.View(t.Context(), func(tx storage.Tx) error {
		vs, total, err := tx.ListVersions(t.Context(), id, coffer.VersionFilter{})
		if err != nil {
			return err
		}
		if total != n || len(vs) != n {
			t.Fatalf("%d versions, total %d; want %d", len(vs), total, n)
		}
		for i, v := range vs {
			if v.Revision != uint32(i+1) {
				t.Fatalf("version %d has revision %d", i, v.Revision)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
