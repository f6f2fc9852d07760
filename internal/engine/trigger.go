package engine

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Triggers. A trigger is a webhook of a project: a URL and a signing secret,
// sealed under the root key like an API key's secret and shown once. A
// secret links at most one trigger (RotationPolicy.TriggerID); a job opened
// on it (Execute, Retry, or the scheduler's automatic rotation) fires it
// once its transaction has committed: the engine POSTs {secretId, jobToken,
// action} to the URL through Webhooks, in a goroutine the engine owns
// (Close stops them). The token then goes to the webhook only. When every
// attempt failed and the job is still as it was opened (created, not
// started by the receiver), the job fails with the delivery's error
// recorded. A job that is still open at its deadline is failed by the
// scheduler (RunDueRotations): nothing stays ROTATING forever.

var _ coffer.TriggerService = (*Engine)(nil)

// Webhooks delivers triggers; internal/webhook implements it.
type Webhooks interface {
	// Check refuses a URL a trigger may not have.
	Check(rawURL string) error
	// Deliver POSTs body to rawURL signed with secret, retrying, and
	// returns the last attempt's error.
	Deliver(ctx context.Context, rawURL string, secret, body []byte) error
}

// DefaultJobTimeout is how long a rotation job may stay open.
const DefaultJobTimeout = time.Hour

// JobRotations names the scheduler's rotation job in audit records.
const JobRotations = "rotations"

// triggerAD binds a trigger's sealed signing secret to the trigger.
func triggerAD(id string) []byte { return []byte("coffer trigger secret\x00" + id) }

// rotationTx returns tx's rotation calls.
func rotationTx(tx storage.Tx) (storage.RotationTx, error) {
	rt, ok := tx.(storage.RotationTx)
	if !ok {
		return nil, &coffer.Error{Code: coffer.EINTERNAL, Message: "the store keeps no rotation triggers"}
	}
	return rt, nil
}

// CreateTrigger creates a trigger and returns its signing secret, once.
func (e *Engine) CreateTrigger(ctx context.Context, in coffer.TriggerCreate) (*coffer.NewTrigger, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateID("project_id", in.ProjectID); err != nil {
		return nil, err
	}
	if err := validateName("name", in.Name); err != nil {
		return nil, err
	}
	if e.webhooks == nil {
		return nil, &coffer.Error{Code: coffer.EUNAVAILABLE, Message: "this server fires no triggers"}
	}
	if err := e.webhooks.Check(in.URL); err != nil {
		return nil, coffer.Invalid("url", coffer.ReasonConstraint, "the URL is refused: "+err.Error())
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret := "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
	tr := &storage.Trigger{Trigger: coffer.Trigger{ID: uuid.NewString(), ProjectID: in.ProjectID, Name: in.Name, URL: in.URL, CreatedAt: e.Now()}}
	if tr.SealedSecret, err = e.keyring.SealCredential([]byte(secret), triggerAD(tr.ID)); err != nil {
		return nil, err
	}
	err = e.update(ctx, func(tx storage.Tx) error {
		if err := e.authorize(ctx, tx, c, actionTriggers, in.ProjectID, "/"); err != nil {
			return err
		}
		if err := e.keyring.CheckRoot(ctx, tx); err != nil {
			return err
		}
		rt, err := rotationTx(tx)
		if err != nil {
			return err
		}
		return storageErr(rt.CreateTrigger(ctx, tr), "trigger", in.Name)
	})
	if err != nil {
		return nil, err
	}
	return &coffer.NewTrigger{Trigger: &tr.Trigger, SigningSecret: secret}, nil
}

// ListTriggers lists the triggers of a project, or of every project the
// caller may see.
func (e *Engine) ListTriggers(ctx context.Context, projectID string) ([]*coffer.Trigger, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out []*coffer.Trigger
	err = e.view(ctx, func(tx storage.Tx) error {
		var ids []string
		if projectID != "" {
			if err := validateID("project_id", projectID); err != nil {
				return err
			}
			if err := e.authorize(ctx, tx, c, actionTriggersRead, projectID, "/"); err != nil {
				return err
			}
			ids = []string{projectID}
		} else {
			ps, err := tx.ListProjects(ctx, c.Principal.OrganizationID)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if e.authorize(ctx, tx, c, actionTriggersRead, p.ID, "/") == nil {
					ids = append(ids, p.ID)
				}
			}
		}
		rt, err := rotationTx(tx)
		if err != nil {
			return err
		}
		trs, err := rt.ListTriggers(ctx, ids)
		for _, tr := range trs {
			out = append(out, &tr.Trigger)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// loadTrigger reads a trigger the caller may act on with action.
func (e *Engine) loadTrigger(ctx context.Context, tx storage.Tx, c *coffer.Caller, action, id string) (*storage.Trigger, error) {
	if err := validateID("trigger_id", id); err != nil {
		return nil, err
	}
	rt, err := rotationTx(tx)
	if err != nil {
		return nil, err
	}
	tr, err := rt.GetTrigger(ctx, id)
	if err != nil {
		return nil, storageErr(err, "trigger", id)
	}
	if err := e.authorize(ctx, tx, c, action, tr.ProjectID, "/"); err != nil {
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return nil, coffer.NotFound("trigger", id)
		}
		return nil, err
	}
	if tr.Secrets, err = rt.TriggerSecrets(ctx, id); err != nil {
		return nil, err
	}
	return tr, nil
}

// GetTrigger returns a trigger with its linked secrets.
func (e *Engine) GetTrigger(ctx context.Context, id string) (*coffer.Trigger, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var tr *storage.Trigger
	err = e.view(ctx, func(tx storage.Tx) (err error) {
		tr, err = e.loadTrigger(ctx, tx, c, actionTriggersRead, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &tr.Trigger, nil
}

// DeleteTrigger deletes a trigger no secret links.
func (e *Engine) DeleteTrigger(ctx context.Context, id string) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	return e.update(ctx, func(tx storage.Tx) error {
		tr, err := e.loadTrigger(ctx, tx, c, actionTriggers, id)
		if err != nil {
			return err
		}
		if len(tr.Secrets) > 0 {
			return coffer.Precondition("trigger_in_use", "trigger", id, "the trigger is linked to "+strconv.Itoa(len(tr.Secrets))+" secret(s)")
		}
		rt, _ := rotationTx(tx)
		return storageErr(rt.DeleteTrigger(ctx, id), "trigger", id)
	})
}

// linkTrigger checks that the trigger id exists in s's project, for a
// caller that may write s.
func (e *Engine) linkTrigger(ctx context.Context, tx storage.Tx, s *coffer.Secret, id string) error {
	if err := validateID("trigger_id", id); err != nil {
		return err
	}
	rt, err := rotationTx(tx)
	if err != nil {
		return err
	}
	tr, err := rt.GetTrigger(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && tr.ProjectID != s.ProjectID) {
		return coffer.NotFound("trigger", id)
	}
	return err
}

// delivery is a trigger to fire once its job's transaction commits.
type delivery struct {
	secretID, jobID, url string
	secret, body         []byte
}

func (d *delivery) wipe() {
	clear(d.secret)
	clear(d.body)
}

// prepareDelivery returns the delivery of s's trigger for the job just
// opened with ticket, or nil when s links no trigger. It reads the trigger
// and opens its secret in tx.
func (e *Engine) prepareDelivery(ctx context.Context, tx storage.Tx, s *coffer.Secret, t *coffer.RotationTicket, action string) (*delivery, error) {
	if s.Rotation == nil || s.Rotation.TriggerID == "" {
		return nil, nil
	}
	if e.webhooks == nil {
		return nil, &coffer.Error{Code: coffer.EUNAVAILABLE, Message: "this server fires no triggers"}
	}
	rt, err := rotationTx(tx)
	if err != nil {
		return nil, err
	}
	tr, err := rt.GetTrigger(ctx, s.Rotation.TriggerID)
	if err != nil {
		return nil, storageErr(err, "trigger", s.Rotation.TriggerID)
	}
	secret, err := e.keyring.OpenCredential(tr.SealedSecret, triggerAD(tr.ID))
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(struct {
		SecretID string `json:"secretId"`
		JobToken string `json:"jobToken"`
		Action   string `json:"action"`
	}{s.ID, t.Token, action})
	return &delivery{secretID: s.ID, jobID: t.JobID, url: tr.URL, secret: secret, body: body}, nil
}

// fire delivers d in a goroutine the engine owns.
func (e *Engine) fire(d *delivery) {
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		defer d.wipe()
		err := e.webhooks.Deliver(e.bgCtx, d.url, d.secret, d.body)
		if err == nil {
			e.log.Debug("rotation trigger delivered", "secret_id", d.secretID, "job_id", d.jobID)
			return
		}
		if e.bgCtx.Err() != nil {
			// Closing: the job's deadline fails it.
			return
		}
		e.log.Warn("rotation trigger not delivered", "secret_id", d.secretID, "job_id", d.jobID, "err", err)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(e.bgCtx), 30*time.Second)
		defer cancel()
		if err := e.failJob(ctx, Fence{}, d.secretID, d.jobID, "delivery-failed", "trigger_delivery_failed", err.Error(), false); err != nil {
			e.log.Error("fail rotation job", "secret_id", d.secretID, "job_id", d.jobID, "err", err)
		}
	}()
}

// failJob fails, as the system, the job jobID of a secret if it is still
// open: when started is false, only if the receiver has not started it.
// The record names the failure by code.
func (e *Engine) failJob(ctx context.Context, f Fence, secretID, jobID, step, code, reason string, started bool) error {
	var rec *coffer.AuditRecord
	err := e.fenced(ctx, f, func(tx storage.Tx) error {
		rec = nil
		s, err := tx.GetSecret(ctx, secretID)
		if err != nil {
			return err
		}
		if s.Rotation == nil || s.Rotation.Job == nil || s.Rotation.Job.ID != jobID || !s.Rotation.Job.State.Open() {
			return nil
		}
		j := s.Rotation.Job
		if !started && j.State != coffer.JobCreated {
			return nil
		}
		if rec, err = e.rotationRecord(ctx, tx, SystemPrincipal, s, step, j.ID, code); err != nil {
			return err
		}
		e.closeJob(s, coffer.JobFailed)
		if len(reason) > 500 {
			reason = reason[:500]
		}
		j.Error = reason
		s.UpdatedAt = e.Now()
		return tx.UpdateSecret(ctx, s)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err == nil && rec != nil {
		return e.writeJobRecord(ctx, rec)
	}
	return err
}

// rotationRecord stages in tx the audit record of a step of a rotation
// job: the principal that took it, the secret, and the job's id, never its
// token; a step that failed the job has errCode. writeJobRecord writes it
// once tx committed.
func (e *Engine) rotationRecord(ctx context.Context, tx storage.Tx, principalID string, s *coffer.Secret, step, jobID, errCode string) (*coffer.AuditRecord, error) {
	if e.audit == nil {
		return &coffer.AuditRecord{}, nil
	}
	org, err := e.projectOrganization(ctx, tx, s.ProjectID)
	if err != nil {
		return nil, err
	}
	action := "rotation " + step
	if jobID != "" {
		action += " job " + jobID
	}
	rec := &coffer.AuditRecord{
		Time: e.Now(), OrganizationID: org, PrincipalID: principalID, ProjectID: s.ProjectID,
		Dialect: "rotation", Action: action, SecretID: s.ID, Path: s.FullPath(),
		Outcome: coffer.AuditOK, Status: 200, RequestID: coffer.NewRequestID(),
	}
	if errCode != "" {
		rec.Outcome, rec.Status, rec.ErrorCode = coffer.AuditError, 502, errCode
	}
	if err := audit.PutPending(ctx, tx, rec, rec.Time); err != nil {
		return nil, err
	}
	rec.Staged = coffer.StagedYes
	return rec, nil
}

// Close stops the deliveries under way and waits for them.
func (e *Engine) Close() {
	e.bgStop()
	e.bg.Wait()
}
