package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Rotation jobs. A secret holds its latest job in its rotation policy
// (coffer.RotationPolicy.Job): one open job at most, so that a job is found
// by its secret and its token checked against the hash kept there. While a
// job is open the secret is SecretRotating; it returns to enabled when the
// job completes, fails or is cancelled. Every step is one write transaction.

var _ coffer.RotationService = (*Engine)(nil)

// randomTargetLength is the length of the random values that replace the
// rotation targets of an added pending stage (NAVER's example has 12).
const randomTargetLength = 12

// errNoJob is what every token that is not the open job's of a secret gets.
func errNoJob() error { return coffer.NotFound("rotation_job", "") }

// newTicket returns a new job and its token: 32 random bytes in hex.
func (e *Engine) newTicket() (*coffer.RotationJob, *coffer.RotationTicket) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	h := sha256.Sum256([]byte(token))
	now := e.Now()
	j := &coffer.RotationJob{ID: uuid.NewString(), TokenHash: h[:], State: coffer.JobCreated, CreatedAt: now, UpdatedAt: now}
	return j, &coffer.RotationTicket{JobID: j.ID, Token: token}
}

// openJob opens a job on s in tx: s must be enabled (or, for a retry, its
// last job failed).
func (e *Engine) openJob(s *coffer.Secret, action string) (*coffer.RotationTicket, error) {
	if err := usable(s); err != nil {
		return nil, err
	}
	if s.State == coffer.SecretRotating {
		return nil, coffer.Precondition(coffer.PreconditionSecretStatus, "secret", s.ID, "a rotation job is already running")
	}
	if action == coffer.JobActionRetry && (s.Rotation == nil || s.Rotation.Job == nil || s.Rotation.Job.State != coffer.JobFailed) {
		return nil, coffer.Precondition("rotation_not_failed", "secret", s.ID, "only a failed rotation can be retried")
	}
	if s.Rotation == nil {
		s.Rotation = &coffer.RotationPolicy{}
	}
	j, t := e.newTicket()
	j.Action, j.Deadline = action, j.CreatedAt.Add(e.jobTimeout)
	s.Rotation.Job = j
	s.State = coffer.SecretRotating
	return t, nil
}

// startJob opens a job on a secret for the caller in ctx, records it and
// fires the secret's trigger once the job committed.
func (e *Engine) startJob(ctx context.Context, secretID, action string) (*coffer.RotationTicket, error) {
	var (
		t   *coffer.RotationTicket
		d   *delivery
		rec *coffer.AuditRecord
	)
	_, err := e.moveSecret(ctx, secretID, actionWrite, func(tx storage.Tx, s *coffer.Secret) (err error) {
		if d != nil {
			d.wipe()
		}
		if t, err = e.openJob(s, action); err != nil {
			return err
		}
		if d, err = e.prepareDelivery(ctx, tx, s, t, action); err != nil {
			return err
		}
		c, _ := caller(ctx)
		rec, err = e.rotationRecord(ctx, tx, c.Principal.ID, s, action, t.JobID, "")
		return err
	})
	if err != nil {
		if d != nil {
			d.wipe()
		}
		return nil, err
	}
	if err := e.writeJobRecord(ctx, rec); err != nil {
		e.log.Error("audit record of a rotation job", "err", err)
	}
	if d != nil {
		e.fire(d)
		t.Token, t.Fired = "", true
	}
	return t, nil
}

// ExecuteRotation opens a rotation job on an enabled secret.
func (e *Engine) ExecuteRotation(ctx context.Context, secretID string) (*coffer.RotationTicket, error) {
	return e.startJob(ctx, secretID, coffer.JobActionExecute)
}

// RetryRotation opens a new job after a failed one.
func (e *Engine) RetryRotation(ctx context.Context, secretID string) (*coffer.RotationTicket, error) {
	return e.startJob(ctx, secretID, coffer.JobActionRetry)
}

// closeJob ends s's open job in state st, drops the pending stage unless
// the job completed, and returns the secret to enabled.
func (e *Engine) closeJob(s *coffer.Secret, st coffer.RotationJobState) {
	j := s.Rotation.Job
	j.State, j.UpdatedAt = st, e.Now()
	if st != coffer.JobCompleted {
		delete(s.Stages, coffer.StagePending)
	}
	s.State = coffer.SecretEnabled
}

// CancelRotation cancels the open job.
func (e *Engine) CancelRotation(ctx context.Context, secretID string) error {
	var rec *coffer.AuditRecord
	_, err := e.moveSecret(ctx, secretID, actionWrite, func(tx storage.Tx, s *coffer.Secret) (err error) {
		if s.State != coffer.SecretRotating || s.Rotation == nil || s.Rotation.Job == nil || !s.Rotation.Job.State.Open() {
			return coffer.Precondition(coffer.PreconditionSecretStatus, "secret", s.ID, "no rotation job is running")
		}
		c, _ := caller(ctx)
		if rec, err = e.rotationRecord(ctx, tx, c.Principal.ID, s, "cancel", s.Rotation.Job.ID, ""); err != nil {
			return err
		}
		e.closeJob(s, coffer.JobCancelled)
		return nil
	})
	if err == nil {
		if err := e.writeJobRecord(ctx, rec); err != nil {
			e.log.Error("audit record of a rotation job", "err", err)
		}
	}
	return err
}

// RollbackRotation writes the previous value as a new active version.
func (e *Engine) RollbackRotation(ctx context.Context, secretID string) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, actionWrite, secretID); err != nil {
			return err
		}
		if err := usable(s); err != nil {
			return err
		}
		if s.State == coffer.SecretRotating {
			return coffer.Precondition(coffer.PreconditionSecretStatus, "secret", s.ID, "a rotation job is running")
		}
		prev, _, err := e.stageValue(ctx, tx, s, coffer.StagePrevious, e.Now())
		if err != nil {
			return err
		}
		if prev == nil {
			return coffer.Precondition("no_previous_value", "secret", s.ID, "the secret has no previous value to roll back to")
		}
		defer prev.Wipe()
		_, err = e.addVersion(ctx, tx, c, s, coffer.VersionCreate{Data: prev, CAS: ptr(s.LastRevision)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// jobStep runs fn, in one write transaction, on a secret whose open job's
// token is token. The caller needs the right to write the secret.
func (e *Engine) jobStep(ctx context.Context, secretID, token, step string, fn func(tx storage.Tx, c *coffer.Caller, s *coffer.Secret, j *coffer.RotationJob) error) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if token == "" || len(token) > 128 {
		return nil, errNoJob()
	}
	h := sha256.Sum256([]byte(token))
	var (
		s   *coffer.Secret
		rec *coffer.AuditRecord
	)
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, actionWrite, secretID); err != nil {
			return err
		}
		if s.Rotation == nil || s.Rotation.Job == nil || subtle.ConstantTimeCompare(s.Rotation.Job.TokenHash, h[:]) != 1 {
			return errNoJob()
		}
		j := s.Rotation.Job
		if !j.State.Open() {
			return coffer.Precondition("rotation_job_"+string(j.State), "rotation_job", j.ID, "the rotation job is "+string(j.State))
		}
		if rec, err = e.rotationRecord(ctx, tx, c.Principal.ID, s, step, j.ID, ""); err != nil {
			return err
		}
		if err := fn(tx, c, s, j); err != nil {
			return err
		}
		j.UpdatedAt = e.Now()
		s.UpdatedAt = j.UpdatedAt
		return storageErr(tx.UpdateSecret(ctx, s), "secret", s.ID)
	})
	if err != nil {
		return nil, err
	}
	if err := e.writeJobRecord(ctx, rec); err != nil {
		e.log.Error("audit record of a rotation job", "err", err)
	}
	return s, nil
}

// StartRotationJob starts the job and returns the chain.
func (e *Engine) StartRotationJob(ctx context.Context, secretID, token string) (*coffer.Secret, *coffer.SecretChain, error) {
	var chain coffer.SecretChain
	now := e.Now()
	s, err := e.jobStep(ctx, secretID, token, "start", func(tx storage.Tx, c *coffer.Caller, s *coffer.Secret, j *coffer.RotationJob) error {
		chain.Wipe()
		chain = coffer.SecretChain{}
		if err := e.authorize(ctx, tx, c, actionAccess, s.ProjectID, s.Path); err != nil {
			return err
		}
		for _, st := range []struct {
			name string
			dst  *coffer.Payload
		}{{coffer.StagePrevious, &chain.Previous}, {coffer.StageActive, &chain.Active}, {coffer.StagePending, &chain.Pending}} {
			data, _, err := e.stageValue(ctx, tx, s, st.name, now)
			if err != nil {
				return err
			}
			*st.dst = data
		}
		if j.State == coffer.JobCreated {
			j.State = coffer.JobStarted
		}
		return nil
	})
	if err != nil {
		chain.Wipe()
		return nil, nil, err
	}
	return s, &chain, nil
}

// started refuses a step of a job that was not started.
func started(j *coffer.RotationJob) error {
	if j.State == coffer.JobCreated {
		return coffer.Precondition("rotation_job_not_started", "rotation_job", j.ID, "the rotation job has not been started")
	}
	return nil
}

// AddPendingStage writes the active value with random rotation targets as
// the pending stage.
func (e *Engine) AddPendingStage(ctx context.Context, secretID, token string) (coffer.Payload, error) {
	var out coffer.Payload
	_, err := e.jobStep(ctx, secretID, token, "pending", func(tx storage.Tx, c *coffer.Caller, s *coffer.Secret, j *coffer.RotationJob) error {
		if err := started(j); err != nil {
			return err
		}
		if err := e.authorize(ctx, tx, c, actionAccess, s.ProjectID, s.Path); err != nil {
			return err
		}
		active, _, err := e.stageValue(ctx, tx, s, coffer.StageActive, e.Now())
		if err != nil {
			return err
		}
		if active == nil {
			return coffer.Precondition("no_active_value", "secret", s.ID, "the secret has no active value to rotate")
		}
		defer active.Wipe()
		obj, err := jsonObject(active)
		if err != nil {
			return coffer.Precondition(coffer.PreconditionNotJSONObject, "secret", s.ID, "the active value is not a JSON object")
		}
		if s.Rotation == nil || len(s.Rotation.Targets) == 0 {
			return coffer.Precondition("no_rotation_targets", "secret", s.ID, "the secret has no rotation targets")
		}
		for _, t := range s.Rotation.Targets {
			v, err := randomString(coffer.RandomOptions{Length: randomTargetLength, RequireEachIncludedType: true})
			if err != nil {
				return err
			}
			b, _ := json.Marshal(v)
			obj[t] = b
		}
		pending, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("encode pending value: %w", err)
		}
		if err := e.writeStage(ctx, tx, c, s, coffer.StagePending, pending); err != nil {
			clear(pending)
			return err
		}
		out = pending
		j.State = coffer.JobPendingWritten
		return nil
	})
	if err != nil {
		out.Wipe()
		return nil, err
	}
	return out, nil
}

// UpdatePendingStage writes value as the pending stage.
func (e *Engine) UpdatePendingStage(ctx context.Context, secretID, token string, value coffer.Payload) error {
	if _, err := validateChainValue("value", value); err != nil {
		return err
	}
	_, err := e.jobStep(ctx, secretID, token, "update-pending", func(tx storage.Tx, c *coffer.Caller, s *coffer.Secret, j *coffer.RotationJob) error {
		if err := started(j); err != nil {
			return err
		}
		if err := e.writeStage(ctx, tx, c, s, coffer.StagePending, value); err != nil {
			return err
		}
		j.State = coffer.JobPendingWritten
		return nil
	})
	return err
}

// GenerateRandomSecret returns a random string for the open job.
func (e *Engine) GenerateRandomSecret(ctx context.Context, secretID, token string, o coffer.RandomOptions) (string, error) {
	if _, err := randomString(coffer.RandomOptions{Length: o.Length, IncludeSpace: true}); err != nil {
		return "", err
	}
	var out string
	_, err := e.jobStep(ctx, secretID, token, "generate-random", func(storage.Tx, *coffer.Caller, *coffer.Secret, *coffer.RotationJob) (err error) {
		out, err = randomString(o)
		return err
	})
	return out, err
}

// CompleteRotationJob shifts the chain: pending -> active -> previous.
func (e *Engine) CompleteRotationJob(ctx context.Context, secretID, token string) error {
	_, err := e.jobStep(ctx, secretID, token, "complete", func(_ storage.Tx, _ *coffer.Caller, s *coffer.Secret, j *coffer.RotationJob) error {
		p, ok := s.Stages[coffer.StagePending]
		if j.State != coffer.JobPendingWritten || !ok {
			return coffer.Precondition("no_pending_value", "rotation_job", j.ID, "the rotation job has written no pending value")
		}
		if a, ok := s.Stages[coffer.StageActive]; ok {
			s.Stages[coffer.StagePrevious] = a
		}
		s.Stages[coffer.StageActive] = p
		noteRevision(ctx, p)
		now := e.Now()
		s.Rotation.LastRunAt = &now
		if s.Rotation.Enabled && s.Rotation.Period > 0 {
			s.Rotation.NextRunAt = new(now.Add(s.Rotation.Period))
		}
		e.closeJob(s, coffer.JobCompleted)
		delete(s.Stages, coffer.StagePending)
		return nil
	})
	return err
}

// FailRotationJob ends the job as failed.
func (e *Engine) FailRotationJob(ctx context.Context, secretID, token string) error {
	_, err := e.jobStep(ctx, secretID, token, "fail", func(_ storage.Tx, _ *coffer.Caller, s *coffer.Secret, _ *coffer.RotationJob) error {
		e.closeJob(s, coffer.JobFailed)
		return nil
	})
	return err
}
