package audit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/storage"
)

// stage writes rec as the pending record of a change, in a transaction of
// its own, as the engine does in the change's.
func stage(t *testing.T, s storage.Store, rec *coffer.AuditRecord) {
	t.Helper()
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		return audit.PutPending(t.Context(), tx, rec, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func pendingCount(t *testing.T, s storage.Store) int {
	t.Helper()
	var n int
	err := s.View(t.Context(), func(tx storage.Tx) error {
		ps, err := tx.(storage.PendingAuditTx).ListPendingAudit(t.Context(), time.Now().Add(time.Hour), 1000)
		n = len(ps)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPendingRecords checks that every change has exactly one record in
// the chain, whichever way its record gets there: the request's own record
// replaces the pending copy; a copy whose request never delivered is swept
// into the chain as it is; a request whose copy was swept already adds
// nothing; a request whose commit may have failed is recorded as it says.
func TestPendingRecords(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(audit.Config{Store: s})
	if err := w.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	// Delivered: the final record, with its status, replaces the copy.
	draft := newRecord(1)
	draft.Status = 0
	stage(t, s, draft)
	final := newRecord(1)
	final.Status, final.Staged = 201, coffer.StagedYes
	if err := w.Write(t.Context(), final); err != nil {
		t.Fatal(err)
	}
	// Orphaned: a copy whose request died; the sweep appends it.
	orphan := newRecord(2)
	orphan.Status = 0
	stage(t, s, orphan)
	if n, err := w.Sweep(t.Context(), time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	// Late: the request's record comes after its copy was swept.
	late := newRecord(2)
	late.Staged = coffer.StagedYes
	if err := w.Write(t.Context(), late); err != nil {
		t.Fatal(err)
	}
	// Uncertain: no copy committed; the record is the request's.
	maybe := newRecord(3)
	maybe.Status, maybe.Outcome, maybe.Staged = 500, coffer.AuditError, coffer.StagedMaybe
	if err := w.Write(t.Context(), maybe); err != nil {
		t.Fatal(err)
	}

	// Committed after all: the commit seemed to fail (the client left,
	// and the answer was a 500), but the change and its copy are there.
	draft4 := newRecord(4)
	draft4.Status = 0
	stage(t, s, draft4)
	failed := newRecord(4)
	failed.Status, failed.Outcome, failed.Staged = 500, coffer.AuditError, coffer.StagedMaybe
	if err := w.Write(t.Context(), failed); err != nil {
		t.Fatal(err)
	}

	recs := records(t, s)
	got := map[string][]int{}
	for _, r := range recs {
		got[r.RequestID] = append(got[r.RequestID], r.Status)
	}
	want := map[string][]int{"req-1": {201}, "req-2": {0}, "req-3": {500}, "req-4": {0}}
	for id, st := range want {
		if len(got[id]) != 1 || got[id][0] != st[0] {
			t.Errorf("%s: records with statuses %v, want %v", id, got[id], st)
		}
	}
	if len(recs) != 4 {
		t.Errorf("%d records, want 4", len(recs))
	}
	for _, r := range recs {
		if r.RequestID == "req-4" && r.Outcome != coffer.AuditOK {
			t.Errorf("a change that committed is recorded %s", r.Outcome)
		}
	}
	if n := pendingCount(t, s); n != 0 {
		t.Errorf("%d pending records left", n)
	}
	if v := verify(t, s); !v.OK {
		t.Fatalf("verify: %+v", v)
	}
}

// TestSweepAtOpen checks that a Writer opened on a store a crash left
// pending records in appends them before it serves, or only the old ones
// when other nodes may still deliver theirs.
func TestSweepAtOpen(t *testing.T) {
	s := openStore(t)
	stage(t, s, newRecord(1))
	w := audit.NewWriter(audit.Config{Store: s})
	if err := w.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(records(t, s)); n != 0 {
		t.Fatalf("a fresh pending record was swept by a shared store's writer: %d records", n)
	}
	w.Close()
	w = audit.NewWriter(audit.Config{Store: s, SweepAllAtOpen: true})
	if err := w.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if recs := records(t, s); len(recs) != 1 || recs[0].RequestID != "req-1" || pendingCount(t, s) != 0 {
		t.Fatalf("after a sweep at open: %d records, %d pending", len(recs), pendingCount(t, s))
	}
	if st := w.Stats(); st.Swept != 1 {
		t.Errorf("stats %+v", st)
	}
}

// flakyFlush is a real store whose flushes fail while fail is set.
type flakyFlush struct {
	storage.Store
	relaxed storage.Relaxed
	fail    atomic.Bool
	flushes atomic.Int64
	relaxes atomic.Int64
}

func (s *flakyFlush) UpdateRelaxed(ctx context.Context, fn func(storage.Tx) error) error {
	s.relaxes.Add(1)
	return s.relaxed.UpdateRelaxed(ctx, fn)
}

func (s *flakyFlush) Flush(ctx context.Context) error {
	s.flushes.Add(1)
	if s.fail.Load() {
		return errInjected
	}
	return s.relaxed.Flush(ctx)
}

// TestRelaxedCommitsAreFlushed checks the window mode: batches commit
// relaxed and a flush follows within the window; while flushes fail, Write
// fails at once (audit or fail), and serves again once one succeeds.
// Strict mode never commits relaxed.
func TestRelaxedCommitsAreFlushed(t *testing.T) {
	db := openStore(t)
	s := &flakyFlush{Store: db, relaxed: db.(storage.Relaxed)}
	w := audit.NewWriter(audit.Config{Store: s, FlushWindow: 4 * time.Millisecond})
	if err := w.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(t.Context(), newRecord(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return w.Stats().Flushes >= 1 })
	if s.relaxes.Load() == 0 {
		t.Error("the window mode committed no batch relaxed")
	}

	s.fail.Store(true)
	if err := w.Write(t.Context(), newRecord(2)); err != nil {
		t.Fatal(err) // committed; its flush is what fails
	}
	waitFor(t, func() bool { return errors.Is(w.Write(t.Context(), newRecord(3)), errInjected) })
	s.fail.Store(false)
	waitFor(t, func() bool { return w.Write(t.Context(), newRecord(4)) == nil })
	if v := verify(t, s); !v.OK {
		t.Fatalf("verify: %+v", v)
	}

	strict := &flakyFlush{Store: db, relaxed: db.(storage.Relaxed)}
	ws := audit.NewWriter(audit.Config{Store: strict, Strict: true})
	if err := ws.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.Write(t.Context(), newRecord(5)); err != nil {
		t.Fatal(err)
	}
	if strict.relaxes.Load() != 0 || strict.flushes.Load() != 0 {
		t.Errorf("strict mode: %d relaxed commits, %d flushes", strict.relaxes.Load(), strict.flushes.Load())
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5 s")
}

// TestRelaxedCommitsAreSpaced checks that, in the window mode, records
// written under load share commits: relaxed commits are quick, and the
// writer spaces them (Config.CommitSpacing) while other requests are under
// way, so that batches grow with the load instead of staying one record
// each; a client writing one record at a time is not made to wait.
func TestRelaxedCommitsAreSpaced(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(audit.Config{Store: s, CommitSpacing: 5 * time.Millisecond})
	if err := w.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Another request is under way the whole time, as on a busy server:
	// spacing applies only then.
	defer w.Expect()()
	const writers, each = 20, 10
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for j := range each {
				if err := w.Write(t.Context(), newRecord(i*each+j)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	st := w.Stats()
	t.Logf("%d records in %d commits", st.Records, st.Commits)
	if st.Records != writers*each || st.Commits*10 > st.Records {
		t.Errorf("%d records in %d commits: want several records a commit", st.Records, st.Commits)
	}
	if v := verify(t, s); !v.OK || v.Records != writers*each {
		t.Fatalf("verify: %+v", v)
	}
}
