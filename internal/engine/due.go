package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// dueBatch is how many due records one pass handles per transaction batch.
const dueBatch = 100

// Fence is the lease term a background run works under: the lease's name
// and the term's fencing token. Every transaction of a fenced run checks the
// term in the store before it writes, so that a node whose term ended (it
// paused, or lost the database for longer than the lease lasts) cannot
// commit anything the node that took over does not expect. The zero Fence
// checks nothing: a run outside any lease (a test, a single-process tool).
type Fence struct {
	Lease string
	Token int64
}

// RunDue applies what time has made due, outside any lease: see
// RunDueFenced.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	return e.RunDueFenced(ctx, Fence{})
}

// RunDueFenced applies what time has made due: ephemeral expiries, purges
// of versions and secrets whose deletion delay has passed. It acts as the
// system, not as a caller, and returns how many records it changed. Each
// record is handled in its own transaction and re-checked there, under its
// secret's row lock, so a record changed meanwhile by a request or by
// another node is left alone and no action is applied twice. Each of those
// transactions first checks the lease term f; once the term has ended the
// run stops with an error that wraps storage.ErrLeaseLost.
func (e *Engine) RunDueFenced(ctx context.Context, f Fence) (int, error) {
	update := func(fn func(tx storage.Tx) error) error {
		return e.update(ctx, func(tx storage.Tx) error {
			if err := f.check(ctx, tx); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	now := e.Now()
	done := 0
	for {
		var due []*storage.Version
		err := e.view(ctx, func(tx storage.Tx) (err error) {
			due, err = tx.DueVersions(ctx, now, dueBatch)
			return err
		})
		if err != nil {
			return done, err
		}
		changed := 0
		for _, d := range due {
			acted := false
			err := update(func(tx storage.Tx) error {
				acted = false
				s, err := tx.GetSecret(ctx, d.SecretID)
				if err != nil {
					return err
				}
				v, err := tx.GetVersion(ctx, d.SecretID, d.Revision)
				if err != nil {
					return err
				}
				switch {
				case v.State == coffer.VersionEnabled && expired(v, now):
					acted = true
					return e.expire(ctx, tx, s, v, now)
				case v.State == coffer.VersionScheduledForDeletion && v.PurgeAt != nil && !now.Before(*v.PurgeAt):
					acted = true
					latest := s.LatestRevision
					destroy(v, now)
					if err := tx.UpdateVersion(ctx, v); err != nil {
						return err
					}
					if v.Revision == latest {
						if err := refreshLatest(ctx, tx, s); err != nil {
							return err
						}
						return tx.UpdateSecret(ctx, s)
					}
				}
				return nil
			})
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return done + changed, err
			}
			if err == nil && acted {
				changed++
			}
		}
		done += changed
		if len(due) < dueBatch || changed == 0 {
			break
		}
	}
	for {
		var due []*coffer.Secret
		err := e.view(ctx, func(tx storage.Tx) (err error) {
			due, err = tx.DueSecrets(ctx, now, dueBatch)
			return err
		})
		if err != nil {
			return done, err
		}
		for _, d := range due {
			acted := false
			err := update(func(tx storage.Tx) error {
				acted = false
				s, err := tx.GetSecret(ctx, d.ID)
				if err != nil {
					return err
				}
				if s.State != coffer.SecretDeletionScheduled || s.PurgeAt == nil || now.Before(*s.PurgeAt) {
					return nil
				}
				acted = true
				return tx.DeleteSecret(ctx, s.ID)
			})
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return done, err
			}
			if err == nil && acted {
				done++
			}
		}
		if len(due) < dueBatch {
			break
		}
	}
	return done, nil
}

// check returns an error that wraps storage.ErrLeaseLost unless the term f
// names still runs; inside Update the term then cannot end before tx does.
// The zero Fence checks nothing.
func (f Fence) check(ctx context.Context, tx storage.Tx) error {
	if f.Lease == "" {
		return nil
	}
	lt, ok := tx.(storage.LeaseTx)
	if !ok {
		return fmt.Errorf("engine: a fenced run needs a store with leases")
	}
	return lt.CheckLease(ctx, f.Lease, f.Token)
}
