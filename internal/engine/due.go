package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
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

// Names of the background jobs, as audit records give them.
const (
	JobDueVersions = "due-versions"
	JobDueSecrets  = "due-secrets"
)

// RunDue applies what time has made due, outside any lease: both
// RunDueVersions and RunDueSecrets.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	n, err := e.RunDueVersions(ctx, Fence{})
	if err != nil {
		return n, err
	}
	m, err := e.RunDueSecrets(ctx, Fence{})
	return n + m, err
}

// fenced runs fn in a write transaction that first checks the lease term
// f: once the term has ended, it fails with an error that wraps
// storage.ErrLeaseLost.
func (e *Engine) fenced(ctx context.Context, f Fence, fn func(tx storage.Tx) error) error {
	return e.update(ctx, func(tx storage.Tx) error {
		if err := f.check(ctx, tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// RunDueVersions applies what time has made due to versions: ephemeral
// expiries, and purges of versions whose deletion delay has passed. It acts
// as the system, not as a caller, records each action in the audit trail,
// and returns how many versions it changed. Each version is handled in its
// own transaction and re-checked there, under its secret's row lock, so a
// version changed meanwhile by a request or by another node is left alone
// and no action is applied twice. Each transaction first checks the lease
// term f; once the term has ended the run stops with an error that wraps
// storage.ErrLeaseLost.
func (e *Engine) RunDueVersions(ctx context.Context, f Fence) (int, error) {
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
			var rec *coffer.AuditRecord
			err := e.fenced(ctx, f, func(tx storage.Tx) error {
				rec = nil
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
					if rec, err = e.jobRecord(ctx, tx, JobDueVersions, "expire", s, v.Revision); err != nil {
						return err
					}
					return e.expire(ctx, tx, s, v, now)
				case v.State == coffer.VersionScheduledForDeletion && v.PurgeAt != nil && !now.Before(*v.PurgeAt):
					if rec, err = e.jobRecord(ctx, tx, JobDueVersions, "purge", s, v.Revision); err != nil {
						return err
					}
					destroy(v, now)
					return saveVersion(ctx, tx, s, v)
				}
				return nil
			})
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return done + changed, err
			}
			if err == nil && rec != nil {
				changed++
				if err := e.writeJobRecord(ctx, rec); err != nil {
					return done + changed, err
				}
			}
		}
		done += changed
		if len(due) < dueBatch || changed == 0 {
			return done, nil
		}
	}
}

// RunDueSecrets purges the secrets whose deletion delay has passed, as
// RunDueVersions handles versions.
func (e *Engine) RunDueSecrets(ctx context.Context, f Fence) (int, error) {
	now := e.Now()
	done := 0
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
			var rec *coffer.AuditRecord
			err := e.fenced(ctx, f, func(tx storage.Tx) error {
				rec = nil
				s, err := tx.GetSecret(ctx, d.ID)
				if err != nil {
					return err
				}
				if s.State != coffer.SecretDeletionScheduled || s.PurgeAt == nil || now.Before(*s.PurgeAt) {
					return nil
				}
				if rec, err = e.jobRecord(ctx, tx, JobDueSecrets, "purge", s, 0); err != nil {
					return err
				}
				return tx.DeleteSecret(ctx, s.ID)
			})
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return done, err
			}
			if err == nil && rec != nil {
				done++
				if err := e.writeJobRecord(ctx, rec); err != nil {
					return done, err
				}
			}
		}
		if len(due) < dueBatch {
			return done, nil
		}
	}
}

// SystemPrincipal is the principal that audit records name for what the
// engine does on its own.
const SystemPrincipal = "system"

// jobRecord returns the audit record of a job's action on a secret (and
// one of its versions, when rev is not 0), read in tx.
func (e *Engine) jobRecord(ctx context.Context, tx storage.Tx, job, action string, s *coffer.Secret, rev uint32) (*coffer.AuditRecord, error) {
	if e.audit == nil {
		return &coffer.AuditRecord{}, nil
	}
	org, err := e.projectOrganization(ctx, tx, s.ProjectID)
	if err != nil {
		return nil, err
	}
	rec := &coffer.AuditRecord{
		Time: e.Now(), OrganizationID: org, PrincipalID: SystemPrincipal, ProjectID: s.ProjectID,
		Dialect: SystemPrincipal, Action: job + " " + action, SecretID: s.ID, Path: s.FullPath(),
		Outcome: coffer.AuditOK, Status: 200, RequestID: coffer.NewRequestID(),
	}
	if rev != 0 {
		rec.Revision = strconv.FormatUint(uint64(rev), 10)
	}
	// The record commits with the action it records; writeJobRecord
	// then moves it into the chain.
	if err := audit.PutPending(ctx, tx, rec, rec.Time); err != nil {
		return nil, err
	}
	rec.Staged = coffer.StagedYes
	return rec, nil
}

// writeJobRecord moves a job's record into the chain once its action
// committed with the record's pending copy; if that fails, the writer's
// sweep moves the copy.
func (e *Engine) writeJobRecord(ctx context.Context, rec *coffer.AuditRecord) error {
	if e.audit == nil {
		return nil
	}
	if err := e.audit(context.WithoutCancel(ctx), rec); err != nil {
		return fmt.Errorf("audit record of %s on secret %s: %w", rec.Action, rec.SecretID, err)
	}
	return nil
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
