// Package scheduler runs coffer's background jobs (ephemeral expiry, purges
// of deleted secrets and versions) on a fixed interval, on exactly one node
// of those sharing a store.
//
// Several nodes on one PostgreSQL database must behave as one: an expiry
// must fire once, not once per node. So the jobs run only on the node that
// holds a lease in the database. A Scheduler takes the lease, renews it
// every RenewEvery, and runs its jobs only while its term is valid; when the
// holder dies, its term expires after LeaseTTL and another node's scheduler
// takes over. A clock can be wrong and a process can pause, so a term that
// is valid by this node's reckoning may already have ended in the database:
// each job therefore receives the term's fencing token and checks it in
// every transaction it commits (see storage.LeaseTx), so a job of an ended
// term cannot commit.
//
// A Scheduler owns its goroutines: Open starts them, Close stops them, waits
// for a run under way, and releases the lease so that another node takes
// over at once.
package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Lease elects the one scheduler that runs the jobs. The node implements it
// over its store (storage.Leases).
type Lease interface {
	// Acquire takes the lease for holder until ttl from now, or extends
	// holder's term, and returns the term's fencing token; ok is false
	// while another holder's term runs.
	Acquire(ctx context.Context, holder string, ttl time.Duration) (token int64, ok bool, err error)
	// Release ends holder's term with token, if it still runs.
	Release(ctx context.Context, holder string, token int64) error
}

// Clock tells the time and waits; the system clock unless a test injects
// another.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// systemClock is the real clock.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ErrLeaseLost is what a job returns, wrapped, when a transaction of it
// found its lease term ended: the jobs moved to another node.
var ErrLeaseLost = errors.New("scheduler: the lease term ended")

// Job is one periodic task; it returns how many records it changed.
type Job struct {
	Name string
	// Run runs the job once under the lease term whose fencing token is
	// token (0 when the scheduler has no lease). It passes token to every
	// transaction it commits, which then fails once the term has ended.
	Run func(ctx context.Context, token int64) (int, error)
}

// Config configures a Scheduler.
type Config struct {
	// Interval is the time between two runs of the jobs; 10 s when 0.
	Interval time.Duration
	// Lease, when set, makes the jobs run only on the holder of the lease;
	// without it they run on this node unconditionally.
	Lease Lease
	// Holder names this node in the lease: unique among the nodes.
	Holder string
	// LeaseTTL is how long a term lasts without renewal, so how long the
	// jobs stop when the holder dies; 15 s when 0.
	LeaseTTL time.Duration
	// RenewEvery is how often the lease is renewed, or tried for by a node
	// that does not hold it; LeaseTTL/3 when 0. It must be below LeaseTTL.
	RenewEvery time.Duration
	// Clock is the system clock when nil.
	Clock  Clock
	Logger *slog.Logger
}

// Status is what a scheduler is doing.
type Status struct {
	// Holder is the scheduler's name in the lease.
	Holder string
	// Leader is true while the scheduler holds a valid term (always,
	// without a lease), and Token is that term's fencing token.
	Leader bool
	Token  int64
	// Runs counts the runs of the jobs, Changed the records they changed.
	Runs, Changed int64
}

// Scheduler runs jobs periodically while it holds the lease.
type Scheduler struct {
	cfg  Config
	jobs []Job
	log  *slog.Logger

	mu         sync.Mutex
	token      int64
	held       bool
	validUntil time.Time // by cfg.Clock; a term is used only before it
	runs       int64
	changed    int64

	wake    chan struct{} // a new term started: run the jobs now
	cancel  context.CancelFunc
	release bool // Close releases the lease; Abandon does not
	wg      sync.WaitGroup
}

// New returns a scheduler of jobs.
func New(cfg Config, jobs ...Job) *Scheduler {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.RenewEvery <= 0 || cfg.RenewEvery >= cfg.LeaseTTL {
		cfg.RenewEvery = cfg.LeaseTTL / 3
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg, jobs: jobs, log: cfg.Logger, wake: make(chan struct{}, 1)}
}

// Open starts the scheduler: it tries for the lease, and runs the jobs at
// once when it gets it, then every interval while it holds it.
func (s *Scheduler) Open() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.release = true
	if s.cfg.Lease == nil {
		s.mu.Lock()
		s.held, s.validUntil = true, time.Time{}
		s.mu.Unlock()
		s.signal()
	} else {
		s.wg.Go(func() { s.leaseLoop(ctx) })
	}
	s.wg.Go(func() { s.jobLoop(ctx) })
}

// Close stops the scheduler, waits for a run under way to end, and releases
// the lease so that another node can take over at once.
func (s *Scheduler) Close() { s.stop(true) }

// Abandon stops the scheduler like Close but leaves its lease term to
// expire, as a node that crashed would: for failover tests.
func (s *Scheduler) Abandon() { s.stop(false) }

func (s *Scheduler) stop(release bool) {
	if s.cancel == nil {
		return
	}
	s.mu.Lock()
	s.release = release
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Status returns what the scheduler is doing.
func (s *Scheduler) Status() Status {
	token, leader := s.term()
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{Holder: s.cfg.Holder, Leader: leader, Token: token, Runs: s.runs, Changed: s.changed}
}

// term returns the token of the term the scheduler holds, if it holds a
// valid one.
func (s *Scheduler) term() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held || (s.cfg.Lease != nil && !s.cfg.Clock.Now().Before(s.validUntil)) {
		return 0, false
	}
	return s.token, true
}

// signal wakes the job loop.
func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// leaseLoop acquires and renews the lease until ctx ends, then releases it
// unless abandoned.
func (s *Scheduler) leaseLoop(ctx context.Context) {
	for {
		s.renew(ctx)
		select {
		case <-ctx.Done():
			s.mu.Lock()
			token, held, release := s.token, s.held, s.release
			s.held = false
			s.mu.Unlock()
			if held && release {
				rctx, cancel := context.WithTimeout(context.Background(), s.cfg.RenewEvery)
				if err := s.cfg.Lease.Release(rctx, s.cfg.Holder, token); err != nil {
					s.log.Warn("release of the jobs lease failed; another node takes over when it expires", "error", err)
				}
				cancel()
			}
			return
		case <-s.cfg.Clock.After(s.cfg.RenewEvery):
		}
	}
}

// renew tries once to acquire or extend the lease. A term counts from
// before the request, so this node's reckoning ends it no later than the
// database does, clock rates aside.
func (s *Scheduler) renew(ctx context.Context) {
	start := s.cfg.Clock.Now()
	actx, cancel := context.WithTimeout(ctx, s.cfg.RenewEvery)
	token, ok, err := s.cfg.Lease.Acquire(actx, s.cfg.Holder, s.cfg.LeaseTTL)
	cancel()
	if err != nil && ctx.Err() != nil {
		return // stopping: not a failure worth a warning
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		// The term, if any, runs out by itself at validUntil.
		s.log.Warn("jobs lease: renewal failed", "holder", s.cfg.Holder, "error", err)
	case ok:
		if !s.held || token != s.token {
			s.log.Info("jobs lease acquired: this node runs the background jobs", "holder", s.cfg.Holder, "token", token)
			defer s.signal()
		}
		s.held, s.token, s.validUntil = true, token, start.Add(s.cfg.LeaseTTL)
	default:
		if s.held {
			s.log.Info("jobs lease lost to another node", "holder", s.cfg.Holder, "token", s.token)
		}
		s.held, s.token = false, 0
	}
}

// jobLoop runs the jobs every interval, and when a term starts, while the
// scheduler holds the lease.
func (s *Scheduler) jobLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-s.cfg.Clock.After(s.cfg.Interval):
		}
		if token, ok := s.term(); ok {
			s.runJobs(ctx, token)
		}
	}
}

// runJobs runs every job once under the term with token.
func (s *Scheduler) runJobs(ctx context.Context, token int64) {
	total := 0
	for _, j := range s.jobs {
		if ctx.Err() != nil {
			return
		}
		n, err := j.Run(ctx, token)
		total += n
		switch {
		case err == nil:
			if n > 0 {
				s.log.InfoContext(ctx, "background job", "job", j.Name, "changed", n)
			}
		case ctx.Err() != nil:
		case errors.Is(err, ErrLeaseLost):
			s.log.InfoContext(ctx, "background job stopped: the jobs lease moved to another node", "job", j.Name)
		default:
			s.log.ErrorContext(ctx, "background job failed", "job", j.Name, "error", err)
		}
	}
	s.mu.Lock()
	s.runs++
	s.changed += int64(total)
	s.mu.Unlock()
}
