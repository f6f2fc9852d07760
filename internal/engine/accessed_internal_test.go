package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/storage"
)

func TestAccessTracker(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	tr := accessTracker{max: 2}

	tr.record("a", 1, at(1))
	tr.record("a", 1, at(0)) // older: ignored
	tr.record("b", 1, at(2))
	tr.record("c", 1, at(3)) // full: dropped, flush signalled
	tr.record("a", 1, at(4)) // a kept version may still move forward
	select {
	case <-tr.fullChan():
	default:
		t.Fatal("a full tracker did not signal")
	}
	if diff := cmp.Diff(map[uint32]time.Time{1: at(4)}, tr.secret("a")); diff != "" {
		t.Errorf("secret a (-want +got):\n%s", diff)
	}
	if got := tr.secret("c"); got != nil {
		t.Errorf("secret c, dropped: %v", got)
	}

	batch, dropped := tr.take()
	want := []storage.VersionAccess{{SecretID: "a", Revision: 1, At: at(4)}, {SecretID: "b", Revision: 1, At: at(2)}}
	if diff := cmp.Diff(want, batch); diff != "" || dropped != 1 {
		t.Errorf("take (-want +got):\n%s\ndropped %d, want 1", diff, dropped)
	}
	// While the batch is written, reads see it, and new times wait apart.
	tr.record("a", 1, at(5))
	tr.record("c", 1, at(6))
	if diff := cmp.Diff(map[uint32]time.Time{1: at(2)}, tr.secret("b")); diff != "" {
		t.Errorf("secret b during the flush (-want +got):\n%s", diff)
	}
	// The flush fails: b's time comes back, a keeps its newer one, and
	// nothing exceeds the bound.
	tr.done(true)
	batch, dropped = tr.take()
	want = []storage.VersionAccess{{SecretID: "a", Revision: 1, At: at(5)}, {SecretID: "c", Revision: 1, At: at(6)}}
	if diff := cmp.Diff(want, batch); diff != "" || dropped != 1 {
		t.Errorf("take after a failed flush (-want +got):\n%s\ndropped %d, want 1 (b, no room)", diff, dropped)
	}
	tr.done(false)
	if got := tr.secret("a"); got != nil {
		t.Errorf("after a flush: %v", got)
	}
	if batch, _ := tr.take(); len(batch) != 0 {
		t.Errorf("second take: %v", batch)
	}
	tr.done(false)
}
