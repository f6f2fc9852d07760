// Package scheduler runs coffer's background jobs (ephemeral expiry, purges
// of deleted secrets and versions) on a fixed interval. A Scheduler owns its
// goroutine: Open starts it, Close stops it and waits for it.
package scheduler

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Job is one periodic task; it returns how many records it changed.
type Job struct {
	Name string
	Run  func(ctx context.Context) (int, error)
}

// Scheduler runs jobs periodically.
type Scheduler struct {
	interval time.Duration
	jobs     []Job
	log      *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a scheduler that runs jobs every interval.
func New(interval time.Duration, log *slog.Logger, jobs ...Job) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{interval: interval, jobs: jobs, log: log}
}

// Open starts running the jobs: once now, then every interval.
func (s *Scheduler) Open() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			s.RunOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// RunOnce runs every job once, now.
func (s *Scheduler) RunOnce(ctx context.Context) {
	for _, j := range s.jobs {
		if ctx.Err() != nil {
			return
		}
		n, err := j.Run(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "background job failed", "job", j.Name, "error", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "background job", "job", j.Name, "changed", n)
		}
	}
}

// Close stops the scheduler and waits for a run under way to end.
func (s *Scheduler) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}
