package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

// Advance moves the clock and fires the waits that end.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
		} else {
			w.ch <- c.now
		}
	}
	c.waiters = kept
}

// fakeLease is a lease with the semantics of storage.Leases, on the fake
// clock.
type fakeLease struct {
	clock *fakeClock

	mu       sync.Mutex
	holder   string
	token    int64
	expires  time.Time
	acquires map[string]int
	releases int
}

func newFakeLease(c *fakeClock) *fakeLease { return &fakeLease{clock: c, acquires: map[string]int{}} }

func (l *fakeLease) Acquire(_ context.Context, holder string, ttl time.Duration) (int64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acquires[holder]++
	now := l.clock.Now()
	running := now.Before(l.expires)
	switch {
	case running && l.holder == holder:
	case running:
		return 0, false, nil
	default:
		l.token++
	}
	l.holder, l.expires = holder, now.Add(ttl)
	return l.token, true, nil
}

func (l *fakeLease) Release(_ context.Context, holder string, token int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder && l.token == token {
		l.releases++
		l.expires = l.clock.Now()
	}
	return nil
}

func (l *fakeLease) count(holder string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acquires[holder]
}

// run is one run of a job.
type run struct {
	holder string
	token  int64
}

// recorder records the runs of the jobs of several schedulers.
type recorder struct {
	mu   sync.Mutex
	runs []run
}

func (r *recorder) job(holder string) Job {
	return Job{Name: "record", Run: func(_ context.Context, token int64) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.runs = append(r.runs, run{holder, token})
		return 1, nil
	}}
}

func (r *recorder) all() []run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]run(nil), r.runs...)
}

// eventually fails the test unless cond becomes true within a few seconds
// of real time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

const (
	interval = 2 * time.Second
	ttl      = 3 * time.Second
	renew    = time.Second
)

func newScheduler(c *fakeClock, l *fakeLease, r *recorder, holder string) *Scheduler {
	cfg := Config{Interval: interval, Holder: holder, LeaseTTL: ttl, RenewEvery: renew, Clock: c}
	if l != nil {
		cfg.Lease = l
	}
	return New(cfg, r.job(holder))
}

func TestWithoutLease(t *testing.T) {
	c, r := newFakeClock(), &recorder{}
	s := newScheduler(c, nil, r, "solo")
	s.Open()
	defer s.Close()
	eventually(t, "the jobs run at Open", func() bool { return len(r.all()) == 1 })
	for i := 2; i <= 4; i++ {
		advanceUntil(t, c, interval/10, fmt.Sprintf("run %d", i), func() bool { return len(r.all()) >= i })
		if got := len(r.all()); got != i {
			t.Fatalf("%d runs, want %d: more than one run per interval", got, i)
		}
	}
	for _, got := range r.all() {
		if got.token != 0 {
			t.Errorf("a run without a lease got token %d, want 0", got.token)
		}
	}
	if st := s.Status(); !st.Leader || st.Runs != 4 || st.Changed != 4 {
		t.Errorf("Status = %+v, want leader, 4 runs, 4 changes", st)
	}
}

// advanceUntil advances the clock by small steps until cond holds: a step
// may come before a goroutine has started its wait, and is then simply not
// the one that ends it.
func advanceUntil(t *testing.T, c *fakeClock, by time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out advancing the clock until %s", what)
		}
		c.Advance(by)
		time.Sleep(200 * time.Microsecond)
	}
}

// step advances the clock until holder has renewed its lease once more, by
// steps small enough that its term never lapses.
func step(t *testing.T, c *fakeClock, l *fakeLease, holder string) {
	t.Helper()
	n := l.count(holder)
	advanceUntil(t, c, renew/10, holder+" renews", func() bool { return l.count(holder) > n })
}

func TestOneLeaderAndFailover(t *testing.T) {
	c, r := newFakeClock(), &recorder{}
	l := newFakeLease(c)
	a := newScheduler(c, l, r, "a")
	a.Open()
	eventually(t, "a leads and runs the jobs", func() bool { return len(r.all()) == 1 })
	b := newScheduler(c, l, r, "b")
	b.Open()
	defer b.Close()
	eventually(t, "b tries for the lease", func() bool { return l.count("b") > 0 })

	// For several intervals only a runs the jobs, under term 1.
	for range 4 * int(interval/renew) {
		step(t, c, l, "a")
	}
	for _, got := range r.all() {
		if got != (run{"a", 1}) {
			t.Fatalf("run %+v while a held term 1", got)
		}
	}
	if len(r.all()) < 3 {
		t.Fatalf("%d runs in three intervals, want at least 3", len(r.all()))
	}
	if st := b.Status(); st.Leader || st.Runs != 0 {
		t.Errorf("b's status while a leads: %+v", st)
	}

	// a dies without releasing: b takes over once the term expires, with
	// the next token, and runs the jobs at once.
	a.Abandon()
	if l.releases != 0 {
		t.Fatal("Abandon released the lease")
	}
	before := len(r.all())
	for i := 0; ; i++ {
		if i > int(ttl/renew)+2 {
			t.Fatal("b never took over")
		}
		c.Advance(renew)
		time.Sleep(5 * time.Millisecond)
		if st := b.Status(); st.Leader {
			break
		}
	}
	eventually(t, "b runs the jobs", func() bool { return len(r.all()) > before })
	for _, got := range r.all()[before:] {
		if got != (run{"b", 2}) {
			t.Errorf("run %+v after a died, want b under term 2", got)
		}
	}
}

func TestCloseReleases(t *testing.T) {
	c, r := newFakeClock(), &recorder{}
	l := newFakeLease(c)
	a := newScheduler(c, l, r, "a")
	a.Open()
	eventually(t, "a leads", func() bool { return a.Status().Leader })
	a.Close()
	if l.releases != 1 {
		t.Fatalf("Close released the lease %d times, want 1", l.releases)
	}
	if a.Status().Leader {
		t.Error("a still leads after Close")
	}
	// Another node takes over at its first try, without waiting for expiry.
	b := newScheduler(c, l, r, "b")
	b.Open()
	defer b.Close()
	eventually(t, "b leads", func() bool { return b.Status().Leader })
	if st := b.Status(); st.Token != 2 {
		t.Errorf("b's token = %d, want 2", st.Token)
	}
}

func TestTermLapsesWithoutRenewal(t *testing.T) {
	c, r := newFakeClock(), &recorder{}
	l := newFakeLease(c)
	a := newScheduler(c, l, r, "a")
	a.Open()
	defer a.Close()
	eventually(t, "a leads", func() bool { return a.Status().Leader })
	// The clock jumps past the term before a could renew: a must not count
	// on its term any longer, whatever the lease says later.
	c.mu.Lock()
	c.now = c.now.Add(ttl)
	c.mu.Unlock()
	if a.Status().Leader {
		t.Error("a still leads past its term")
	}
}
