package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/metrics"
	"github.com/coffer-dev/coffer/internal/scheduler"
	"github.com/coffer-dev/coffer/internal/storage"
)

// jobsLease names the lease whose holder runs the background jobs.
const jobsLease = "jobs"

// storeLease is the jobs lease of a store, as the scheduler uses it.
type storeLease struct {
	leases storage.Leases
	name   string
}

func (l storeLease) Acquire(ctx context.Context, holder string, ttl time.Duration) (int64, bool, error) {
	return l.leases.AcquireLease(ctx, l.name, holder, ttl)
}

func (l storeLease) Release(ctx context.Context, holder string, token int64) error {
	return l.leases.ReleaseLease(ctx, l.name, holder, token)
}

// newScheduler returns the scheduler of the node's background jobs, which
// run on whichever node of those sharing the store holds the jobs lease.
func newScheduler(cfg Config, s store, e *engine.Engine, reg *metrics.Registry) *scheduler.Scheduler {
	fenced := func(run func(context.Context, engine.Fence) (int, error)) func(context.Context, int64) (int, error) {
		return func(ctx context.Context, token int64) (int, error) {
			n, err := run(ctx, engine.Fence{Lease: jobsLease, Token: token})
			if errors.Is(err, storage.ErrLeaseLost) {
				err = fmt.Errorf("%w: %w", scheduler.ErrLeaseLost, err)
			}
			return n, err
		}
	}
	job := func(name string, run func(context.Context, engine.Fence) (int, error)) scheduler.Job {
		j := scheduler.Job{Name: name, Run: fenced(run)}
		if reg != nil {
			inner := j.Run
			j.Run = func(ctx context.Context, token int64) (int, error) {
				start := time.Now()
				n, err := inner(ctx, token)
				reg.ObserveJob(name, time.Since(start), err)
				return n, err
			}
		}
		return j
	}
	return scheduler.New(scheduler.Config{
		Interval:   cfg.JobInterval,
		Lease:      storeLease{leases: s, name: jobsLease},
		Holder:     holderID(),
		LeaseTTL:   cfg.LeaseTTL,
		RenewEvery: cfg.LeaseRenew,
		Logger:     cfg.Logger,
	},
		job(engine.JobDueVersions, e.RunDueVersions),
		job(engine.JobDueSecrets, e.RunDueSecrets),
		job(engine.JobRotations, e.RunDueRotations),
		job(engine.JobSync, e.RunSync),
		job(engine.JobKeyRewrap, e.RunKeyRewrap),
	)
}

// holderID names this node in the jobs lease: host, process and a random
// part, so that two nodes never share a name and an operator can tell from
// the leases table which node runs the jobs.
func holderID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
