package engine

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ coffer.AutoRotationService = (*Engine)(nil)

const day = 24 * time.Hour

// rotationPeriod validates a period in days.
func rotationPeriod(days int) (time.Duration, error) {
	if days < coffer.MinRotationDays || days > coffer.MaxRotationDays {
		return 0, coffer.Invalid("rotation_period", coffer.ReasonConstraint,
			"the rotation period must be between "+strconv.Itoa(coffer.MinRotationDays)+" and "+strconv.Itoa(coffer.MaxRotationDays)+" days")
	}
	return time.Duration(days) * day, nil
}

// policy returns s's rotation policy, creating it.
func policy(s *coffer.Secret) *coffer.RotationPolicy {
	if s.Rotation == nil {
		s.Rotation = &coffer.RotationPolicy{}
	}
	return s.Rotation
}

// EnableAutoRotation turns automatic rotation on.
func (e *Engine) EnableAutoRotation(ctx context.Context, secretID string, days int, triggerID string) (*coffer.Secret, error) {
	return e.moveSecret(ctx, secretID, actionWrite, func(tx storage.Tx, s *coffer.Secret) error {
		p := policy(s)
		period := p.Period
		if days != 0 || period <= 0 {
			if days == 0 {
				days = coffer.DefaultRotationDays
			}
			var err error
			if period, err = rotationPeriod(days); err != nil {
				return err
			}
		}
		if err := usable(s); err != nil {
			return err
		}
		if triggerID != "" {
			if err := e.linkTrigger(ctx, tx, s, triggerID); err != nil {
				return err
			}
			p.TriggerID = triggerID
		}
		if p.TriggerID == "" {
			return coffer.Precondition("no_trigger", "secret", s.ID, "automatic rotation needs a trigger")
		}
		p.Enabled, p.Period = true, period
		p.NextRunAt = new(e.Now().Add(period))
		return nil
	})
}

// DisableAutoRotation turns automatic rotation off.
func (e *Engine) DisableAutoRotation(ctx context.Context, secretID string) (*coffer.Secret, error) {
	return e.moveSecret(ctx, secretID, actionWrite, func(_ storage.Tx, s *coffer.Secret) error {
		p := policy(s)
		p.Enabled, p.NextRunAt = false, nil
		return nil
	})
}

// SetRotationPeriod changes the period.
func (e *Engine) SetRotationPeriod(ctx context.Context, secretID string, days int) (*coffer.Secret, error) {
	period, err := rotationPeriod(days)
	if err != nil {
		return nil, err
	}
	return e.moveSecret(ctx, secretID, actionWrite, func(_ storage.Tx, s *coffer.Secret) error {
		p := policy(s)
		p.Period = period
		if p.Enabled {
			base := e.Now()
			if p.LastRunAt != nil {
				base = *p.LastRunAt
			}
			p.NextRunAt = new(base.Add(period))
		}
		return nil
	})
}

// LinkTrigger links a trigger to a secret.
func (e *Engine) LinkTrigger(ctx context.Context, secretID, triggerID string) (*coffer.Secret, error) {
	return e.moveSecret(ctx, secretID, actionWrite, func(tx storage.Tx, s *coffer.Secret) error {
		if err := e.linkTrigger(ctx, tx, s, triggerID); err != nil {
			return err
		}
		policy(s).TriggerID = triggerID
		return nil
	})
}

// UnlinkTrigger unlinks a secret's trigger.
func (e *Engine) UnlinkTrigger(ctx context.Context, secretID string) error {
	_, err := e.moveSecret(ctx, secretID, actionWrite, func(_ storage.Tx, s *coffer.Secret) error {
		p := policy(s)
		if p.Enabled {
			return coffer.Precondition("auto_rotation_enabled", "secret", s.ID, "turn automatic rotation off before unlinking the trigger")
		}
		p.TriggerID = ""
		return nil
	})
	return err
}

// RunDueRotations does what time has made due to rotations: it fails the
// jobs open past their deadline, and opens a job, firing its trigger, on
// every secret whose automatic rotation is due and that has no open job.
// Each secret is handled in its own fenced transaction and re-checked
// there, under its row lock, so that no rotation is opened twice, by two
// passes or two nodes; a due rotation's next date moves a period on when
// its job opens, so a failed job is not retried before the next period.
// A secret that cannot rotate (disabled, revoked, no trigger) is skipped
// until its next period.
func (e *Engine) RunDueRotations(ctx context.Context, f Fence) (int, error) {
	now := e.Now()
	done := 0
	for {
		var due []*coffer.Secret
		err := e.view(ctx, func(tx storage.Tx) error {
			rt, err := rotationTx(tx)
			if err != nil {
				return err
			}
			due, err = rt.DueRotations(ctx, now, dueBatch)
			return err
		})
		if err != nil {
			return done, err
		}
		changed := 0
		for _, d := range due {
			var (
				rec *coffer.AuditRecord
				del *delivery
			)
			err := e.fenced(ctx, f, func(tx storage.Tx) (err error) {
				rec = nil
				if del != nil {
					del.wipe()
					del = nil
				}
				s, err := tx.GetSecret(ctx, d.ID)
				if err != nil {
					return err
				}
				p := s.Rotation
				if p == nil {
					return nil
				}
				if j := p.Job; j != nil && j.State.Open() {
					if j.Deadline.IsZero() || now.Before(j.Deadline) {
						return nil
					}
					if rec, err = e.rotationRecord(ctx, tx, SystemPrincipal, s, "deadline", j.ID, "rotation_deadline"); err != nil {
						return err
					}
					e.closeJob(s, coffer.JobFailed)
					j.Error = "the rotation job was still open at its deadline"
					s.UpdatedAt = now
					return tx.UpdateSecret(ctx, s)
				}
				if !p.Enabled || p.NextRunAt == nil || now.Before(*p.NextRunAt) {
					return nil
				}
				p.NextRunAt = new(now.Add(max(p.Period, time.Hour)))
				step, jobID := coffer.JobActionAuto, ""
				if usable(s) != nil || p.TriggerID == "" || e.webhooks == nil {
					// It cannot rotate now: try again a period later.
					step = "skip"
				} else {
					t, err := e.openJob(s, coffer.JobActionAuto)
					if err != nil {
						return err
					}
					if del, err = e.prepareDelivery(ctx, tx, s, t, coffer.JobActionAuto); err != nil {
						return err
					}
					jobID = t.JobID
				}
				if rec, err = e.rotationRecord(ctx, tx, SystemPrincipal, s, step, jobID, ""); err != nil {
					return err
				}
				s.UpdatedAt = now
				return tx.UpdateSecret(ctx, s)
			})
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				if del != nil {
					del.wipe()
				}
				return done + changed, err
			}
			if err == nil && rec != nil {
				changed++
				if err := e.writeJobRecord(ctx, rec); err != nil {
					e.log.Error("audit record of a rotation job", "err", err)
				}
				if del != nil {
					e.fire(del)
				}
			}
		}
		done += changed
		if len(due) < dueBatch || changed == 0 {
			return done, nil
		}
	}
}
