package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// The sync job deploys the secrets of key vaults to their targets: each
// new version, in order, then the secret's removal. It runs on the node
// that holds the jobs lease, as the system, and every action it takes
// commits with its audit record.
//
// A push is idempotent: the target client writes a value only when the
// remote's latest value differs, and the job records each pushed revision
// in its own transaction, so a node that dies between the remote write and
// the local commit pushes nothing twice on the next pass. A failure sets
// the secret's state to stalled (never deployed) or updating_error,
// records the error, and is tried again on its own after a delay that
// doubles with each attempt, up to MaxSyncAttempts; after that only a
// retry resumes it.

// JobSync names the sync job in audit records.
const JobSync = "sync"

// Sync tuning.
const (
	// SyncBackoff is the delay after a first failure; it doubles with each
	// further failure, up to SyncMaxBackoff.
	SyncBackoff    = 2 * time.Second
	SyncMaxBackoff = 5 * time.Minute
	// MaxSyncAttempts is how many failed attempts the job makes on its own.
	MaxSyncAttempts = 5
)

// RemoteSecret is one secret of a target, as an import reads it.
type RemoteSecret struct {
	// Name is the remote name; RemoteID the target's id for it.
	Name     string
	RemoteID string
	// Value is the latest value.
	Value coffer.Payload
}

// TargetClient speaks to one target. Implementations live in
// internal/target; errors are the target's, with no credential in them.
type TargetClient interface {
	// Push makes value the latest value of the remote secret remoteID, or,
	// when remoteID is "", of the one named name, which it creates if
	// needed. It writes nothing when the remote's latest value is value
	// already. It returns the remote id, and whether it wrote.
	Push(ctx context.Context, remoteID, name string, value []byte) (id string, wrote bool, err error)
	// Delete removes a remote secret; one already gone is no error.
	Delete(ctx context.Context, remoteID string) error
	// List returns the target's secrets with their latest values.
	List(ctx context.Context) ([]RemoteSecret, error)
}

// Targets opens target clients.
type Targets interface {
	// Client returns a client for t, whose Credential is set.
	Client(t coffer.Target) (TargetClient, error)
}

// SetTargets sets how the engine reaches targets; without, key vaults
// with a target are never deployed.
func (e *Engine) SetTargets(t Targets) { e.targets.Store(&t) }

// client opens the target client of a vault.
func (e *Engine) client(kv *storage.KeyVault) (TargetClient, error) {
	tp := e.targets.Load()
	if tp == nil {
		return nil, fmt.Errorf("no target clients are configured")
	}
	cred, err := e.keyring.OpenCredential(kv.SealedCredential, credentialAD(kv.ID))
	if err != nil {
		return nil, fmt.Errorf("open the credential of key vault %s: %w", kv.ID, err)
	}
	t := kv.Target
	t.Credential = cred
	return (*tp).Client(t)
}

// backoff returns the delay after the n-th failed attempt.
func backoff(n int) time.Duration {
	d := SyncBackoff
	for i := 1; i < n && d < SyncMaxBackoff; i++ {
		d *= 2
	}
	return min(d, SyncMaxBackoff)
}

// due reports whether the job acts on a secret's deployment now.
func due(kv *storage.KeyVault, s *coffer.Secret, d *coffer.Deployment, now time.Time) bool {
	if d.NextAttemptAt != nil && now.Before(*d.NextAttemptAt) {
		return false
	}
	switch d.State {
	case coffer.DeployDecommissioning:
		return true
	case coffer.DeployStalled, coffer.DeployUpdatingError:
		return d.NextAttemptAt != nil
	case coffer.DeployEnd:
		return false
	}
	// A deployment in progress is due even when it has pushed every
	// version (its state is then put right).
	inProgress := d.State != coffer.DeployAvailable
	return s != nil && (s.LatestRevision > d.PushedRevision || d.RemoteID == "" || inProgress) && s.LatestRevision > 0
}

// RunSync deploys what is due in every key vault with a target and
// returns how many actions it took (pushes and removals). Each
// transaction checks the lease term f.
func (e *Engine) RunSync(ctx context.Context, f Fence) (int, error) {
	if e.targets.Load() == nil {
		return 0, nil
	}
	var vaults []*storage.KeyVault
	err := e.view(ctx, func(tx storage.Tx) error {
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		vaults, err = ktx.ListKeyVaults(ctx, nil)
		return err
	})
	if err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	for _, kv := range vaults {
		if kv.Target.Kind == coffer.TargetNone {
			continue
		}
		n, err := e.syncVault(ctx, f, kv)
		done += n
		if errors.Is(err, storage.ErrLeaseLost) {
			return done, err
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}

// syncVault runs the due work of one vault.
func (e *Engine) syncVault(ctx context.Context, f Fence, kv *storage.KeyVault) (int, error) {
	now := e.Now()
	type item struct {
		s *coffer.Secret
		d *coffer.Deployment
	}
	var work []item
	err := e.view(ctx, func(tx storage.Tx) error {
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		secrets, byID, err := vaultSecrets(ctx, tx, ktx, kv)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			d, ok := byID[s.ID]
			delete(byID, s.ID)
			if !ok {
				d = newDeployment(kv, s, now)
			}
			if due(kv, s, d, now) {
				work = append(work, item{s, d})
			}
		}
		// Deployments whose secret is gone (deleted through another
		// dialect): the remote copy is decommissioned.
		for _, d := range byID {
			if d.State != coffer.DeployDecommissioning {
				d.State = coffer.DeployDecommissioning
			}
			if due(kv, nil, d, now) {
				work = append(work, item{nil, d})
			}
		}
		return nil
	})
	if err != nil || len(work) == 0 {
		return 0, err
	}
	client, cerr := e.client(kv)
	done := 0
	for _, w := range work {
		if cerr != nil {
			if err := e.syncFailed(ctx, f, kv, w.d.SecretID, cerr); err != nil {
				return done, err
			}
			continue
		}
		n, err := e.syncSecret(ctx, f, kv, client, w.d.SecretID, w.d.State == coffer.DeployDecommissioning)
		done += n
		if errors.Is(err, storage.ErrLeaseLost) {
			return done, err
		}
		if err != nil {
			if ferr := e.syncFailed(ctx, f, kv, w.d.SecretID, err); ferr != nil {
				return done, ferr
			}
		}
	}
	return done, nil
}

// syncSecret pushes a secret's unpushed revisions in order, or
// decommissions it.
func (e *Engine) syncSecret(ctx context.Context, f Fence, kv *storage.KeyVault, client TargetClient, secretID string, decommission bool) (int, error) {
	if decommission {
		var remoteID string
		if err := e.view(ctx, func(tx storage.Tx) error {
			ktx, err := kvTx(tx)
			if err != nil {
				return err
			}
			d, err := ktx.GetDeployment(ctx, secretID)
			if err != nil {
				return err
			}
			remoteID = d.RemoteID
			return nil
		}); err != nil {
			return 0, err
		}
		if remoteID != "" {
			if err := client.Delete(ctx, remoteID); err != nil {
				return 0, err
			}
		}
		return 1, e.syncStep(ctx, f, kv, secretID, func(tx storage.Tx, ktx storage.KeyVaultTx, s *coffer.Secret, d *coffer.Deployment) (string, uint32, error) {
			// The secret ends with its remote copy, unless it has left
			// the vault's folder (moved through another dialect): only
			// the remote copy goes then.
			if s != nil && s.ProjectID == kv.ProjectID && s.Path == kv.Path {
				if err := tx.DeleteSecret(ctx, s.ID); err != nil {
					return "", 0, err
				}
			}
			return "decommission", 0, ktx.DeleteDeployment(ctx, secretID)
		})
	}
	done := 0
	for {
		// The next revision to push, read with its value.
		var (
			rev      uint32
			value    coffer.Payload
			name     string
			remoteID string
			// seen is the newest revision the read saw: a version
			// written after it is pushed by a later pass, never
			// counted as pushed.
			seen uint32
		)
		err := e.view(ctx, func(tx storage.Tx) error {
			ktx, err := kvTx(tx)
			if err != nil {
				return err
			}
			s, err := tx.GetSecret(ctx, secretID)
			if err != nil {
				return err
			}
			d, err := ktx.GetDeployment(ctx, secretID)
			if errors.Is(err, storage.ErrNotFound) {
				d = newDeployment(kv, s, e.Now())
			} else if err != nil {
				return err
			}
			name, remoteID = s.Name, d.RemoteID
			if d.DesiredRemoteID != "" {
				name = d.DesiredRemoteID
			}
			vs, _, err := tx.ListVersions(ctx, secretID, coffer.VersionFilter{})
			if err != nil {
				return err
			}
			for _, v := range vs {
				seen = max(seen, v.Revision)
			}
			for _, v := range vs {
				if v.Revision > d.PushedRevision && v.State == coffer.VersionEnabled {
					full, err := tx.GetVersion(ctx, secretID, v.Revision)
					if err != nil {
						return err
					}
					rev = v.Revision
					value, err = e.open(ctx, tx, s, full)
					return err
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		if rev == 0 {
			// Nothing left to push among the versions the read saw (the
			// newer ones are not enabled): up to date, unless a version
			// came since, which the next pass pushes.
			return done, e.syncStep(ctx, f, kv, secretID, func(_ storage.Tx, ktx storage.KeyVaultTx, s *coffer.Secret, d *coffer.Deployment) (string, uint32, error) {
				if s == nil || d.State == coffer.DeployDecommissioning {
					return "", 0, nil
				}
				changed := seen > d.PushedRevision
				d.PushedRevision = max(d.PushedRevision, seen)
				if d.PushedRevision >= s.LatestRevision && d.State != coffer.DeployAvailable {
					d.State, changed = coffer.DeployAvailable, true
				}
				if !changed {
					return "", 0, nil
				}
				d.Attempts, d.NextAttemptAt, d.LastError = 0, nil, ""
				return "up-to-date", 0, ktx.PutDeployment(ctx, d)
			})
		}
		newID, wrote, err := client.Push(ctx, remoteID, name, value)
		value.Wipe()
		if err != nil {
			return done, err
		}
		done++
		err = e.syncStep(ctx, f, kv, secretID, func(_ storage.Tx, ktx storage.KeyVaultTx, s *coffer.Secret, d *coffer.Deployment) (string, uint32, error) {
			if d.State == coffer.DeployDecommissioning {
				// Deleted while it was pushed: the decommissioning
				// removes what the push created.
				if d.RemoteID == "" {
					d.RemoteID = newID
					return "push", rev, ktx.PutDeployment(ctx, d)
				}
				return "", 0, nil
			}
			if s == nil {
				return "", 0, nil
			}
			d.RemoteID = newID
			d.PushedRevision = max(d.PushedRevision, rev)
			d.Attempts, d.NextAttemptAt, d.LastError = 0, nil, ""
			switch {
			case d.PushedRevision >= s.LatestRevision:
				d.State = coffer.DeployAvailable
			case d.State == coffer.DeployStart || d.State == coffer.DeployStalled:
				d.State = coffer.DeployDeploying
			default:
				d.State = coffer.DeployUpdatingVersions
			}
			action := "push"
			if !wrote {
				// The target held the value already: a pass that
				// wrote it died before it committed.
				action = "push-found"
			}
			return action, rev, ktx.PutDeployment(ctx, d)
		})
		if errors.Is(err, storage.ErrNotFound) {
			// The secret and its deployment were removed while it was
			// pushed (nothing was deployed then, as far as the removal
			// knew): remove what the push created.
			return done, client.Delete(ctx, newID)
		}
		if err != nil {
			return done, err
		}
	}
}

// syncFailed records a failed attempt: the error, the failed state, and
// when the job tries again on its own.
func (e *Engine) syncFailed(ctx context.Context, f Fence, kv *storage.KeyVault, secretID string, cause error) error {
	e.log.WarnContext(ctx, "key vault sync failed", "key_vault_id", kv.ID, "secret_id", secretID, "error", cause)
	return e.syncStep(ctx, f, kv, secretID, func(_ storage.Tx, ktx storage.KeyVaultTx, s *coffer.Secret, d *coffer.Deployment) (string, uint32, error) {
		d.Attempts++
		d.LastError = clip(cause.Error(), 1000)
		switch d.State {
		case coffer.DeployDecommissioning:
		case coffer.DeployStart, coffer.DeployDeploying, coffer.DeployStalled:
			if d.RemoteID == "" {
				d.State = coffer.DeployStalled
			} else {
				d.State = coffer.DeployUpdatingError
			}
		default:
			d.State = coffer.DeployUpdatingError
		}
		d.NextAttemptAt = nil
		if d.Attempts < MaxSyncAttempts {
			d.NextAttemptAt = ptr(e.Now().Add(backoff(d.Attempts)))
		}
		return "push-failed", 0, ktx.PutDeployment(ctx, d)
	})
}

// syncStep runs fn on a secret's deployment in a fenced transaction and
// writes the audit record of the action it names ("" records nothing).
// The secret is nil when it is gone.
func (e *Engine) syncStep(ctx context.Context, f Fence, kv *storage.KeyVault, secretID string,
	fn func(tx storage.Tx, ktx storage.KeyVaultTx, s *coffer.Secret, d *coffer.Deployment) (string, uint32, error)) error {
	var rec *coffer.AuditRecord
	err := e.fenced(ctx, f, func(tx storage.Tx) error {
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		s, err := tx.GetSecret(ctx, secretID)
		if errors.Is(err, storage.ErrNotFound) {
			s = nil
		} else if err != nil {
			return err
		}
		d, err := ktx.GetDeployment(ctx, secretID)
		if errors.Is(err, storage.ErrNotFound) && s != nil {
			d = newDeployment(kv, s, e.Now())
		} else if err != nil {
			return err
		}
		action, rev, err := fn(tx, ktx, s, d)
		if err != nil || action == "" {
			return err
		}
		subject := s
		if subject == nil {
			subject = &coffer.Secret{ID: secretID, ProjectID: kv.ProjectID, Path: kv.Path}
		}
		rec, err = e.jobRecord(ctx, tx, JobSync, action, subject, rev)
		return err
	})
	if err != nil || rec == nil {
		return err
	}
	return e.writeJobRecord(ctx, rec)
}

// ImportKeyVault copies the target's secrets that the vault does not hold
// yet into it, as brownfield secrets already deployed.
func (e *Engine) ImportKeyVault(ctx context.Context, id string) (int, error) {
	c, err := caller(ctx)
	if err != nil {
		return 0, err
	}
	var kv *storage.KeyVault
	err = e.view(ctx, func(tx storage.Tx) error {
		_, kv, err = e.loadKeyVault(ctx, tx, c, actionWrite, id)
		return err
	})
	if err != nil {
		return 0, err
	}
	if kv.Target.Kind == coffer.TargetNone {
		return 0, coffer.Precondition("no_target", "key_vault", id, "the key vault has no target to import from")
	}
	client, err := e.client(kv)
	if err != nil {
		return 0, err
	}
	remote, err := client.List(ctx)
	if err != nil {
		e.log.WarnContext(ctx, "key vault import failed", "key_vault_id", kv.ID, "error", err)
		return 0, &coffer.Error{Code: coffer.EUNAVAILABLE, Message: "the key vault's target could not be read: " + clip(err.Error(), 300)}
	}
	defer func() {
		for _, r := range remote {
			r.Value.Wipe()
		}
	}()
	n := 0
	err = e.update(ctx, func(tx storage.Tx) error {
		n = 0
		ktx, kv, err := e.loadKeyVault(ctx, tx, c, actionWrite, id)
		if err != nil {
			return err
		}
		for _, r := range remote {
			if validateName("name", r.Name) != nil || len(r.Value) == 0 || len(r.Value) > e.limits.MaxPayloadSize {
				continue
			}
			if _, err := tx.GetSecretByPath(ctx, kv.ProjectID, kv.Path, r.Name); err == nil {
				continue
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			s, err := e.newSecret(withInferredType(coffer.SecretCreate{ProjectID: kv.ProjectID, Path: kv.Path, Name: r.Name, KeyVaultID: kv.ID}, r.Value))
			if err != nil {
				return err
			}
			if err := e.insertSecret(ctx, tx, c, s); err != nil {
				return err
			}
			if _, err := e.addVersion(ctx, tx, c, s, coffer.VersionCreate{Data: r.Value, CAS: ptr(uint32(0))}); err != nil {
				return err
			}
			now := e.Now()
			if err := ktx.PutDeployment(ctx, &coffer.Deployment{SecretID: s.ID, KeyVaultID: kv.ID, ProjectID: kv.ProjectID,
				State: coffer.DeployAvailable, RemoteID: r.RemoteID, Brownfield: true, PushedRevision: s.LatestRevision,
				CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
