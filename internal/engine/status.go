package engine

import (
	"context"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ coffer.SecretStatusService = (*Engine)(nil)

// PreconditionSecretDisabled qualifies the EPRECONDITION of a read of a
// disabled secret's values.
const PreconditionSecretDisabled = "secret_disabled"

// usable returns why no value of a secret can be read, whatever the
// version: the secret is disabled or scheduled for deletion. Every read of
// data (AccessVersion, ReadVersion, PatchVersion, the stage reads) asks it
// first, so that a secret's state holds in every dialect.
func usable(s *coffer.Secret) error {
	switch s.State {
	case coffer.SecretDeletionScheduled:
		return coffer.Precondition(coffer.PreconditionDeletion, "secret", s.ID, "the secret is scheduled for deletion")
	case coffer.SecretDisabled:
		return coffer.Precondition(PreconditionSecretDisabled, "secret", s.ID, "the secret is disabled")
	}
	return nil
}

// statusError is the refusal of a move between secret states.
func statusError(s *coffer.Secret, want string) error {
	return coffer.Precondition(coffer.PreconditionSecretStatus, "secret", s.ID,
		"a secret that is "+humanSecretState(s.State)+" cannot be "+want)
}

func humanSecretState(st coffer.SecretState) string {
	switch st {
	case coffer.SecretDeletionScheduled:
		return "scheduled for deletion"
	case "":
		return string(coffer.SecretEnabled)
	}
	return string(st)
}

// moveSecret applies fn to a secret in one write transaction, for a
// caller with the right action, and saves it.
func (e *Engine) moveSecret(ctx context.Context, id, action string, fn func(tx storage.Tx, s *coffer.Secret) error) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, action, id); err != nil {
			return err
		}
		if err := fn(tx, s); err != nil {
			return err
		}
		s.UpdatedAt = e.Now()
		return storageErr(tx.UpdateSecret(ctx, s), "secret", id)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// EnableSecret enables a disabled secret.
func (e *Engine) EnableSecret(ctx context.Context, id string) (*coffer.Secret, error) {
	return e.moveSecret(ctx, id, actionWrite, func(_ storage.Tx, s *coffer.Secret) error {
		if s.State != coffer.SecretDisabled {
			return statusError(s, "enabled")
		}
		s.State = coffer.SecretEnabled
		return nil
	})
}

// DisableSecret disables an enabled secret: no dialect reads its values
// until it is enabled again.
func (e *Engine) DisableSecret(ctx context.Context, id string) (*coffer.Secret, error) {
	return e.moveSecret(ctx, id, actionWrite, func(_ storage.Tx, s *coffer.Secret) error {
		if s.State != coffer.SecretEnabled && s.State != "" {
			return statusError(s, "disabled")
		}
		s.State = coffer.SecretDisabled
		return nil
	})
}

// RequestSecretDeletion schedules a secret for deletion after its
// project's deletion waiting period (coffer.DeletionDelay by default), as
// Scaleway's DeleteSecret does; the due job destroys it then. A secret
// already scheduled keeps its date.
func (e *Engine) RequestSecretDeletion(ctx context.Context, id string) (*coffer.Secret, error) {
	return e.moveSecret(ctx, id, actionDelete, func(tx storage.Tx, s *coffer.Secret) error {
		switch s.State {
		case coffer.SecretDeletionScheduled:
			return nil
		case coffer.SecretRotating:
			return statusError(s, "scheduled for deletion")
		}
		if s.Protected {
			return coffer.Precondition(coffer.PreconditionProtected, "secret", s.ID, "cannot delete a protected secret")
		}
		return e.scheduleDeletion(ctx, tx, s)
	})
}

// CancelSecretDeletion cancels a scheduled deletion and leaves the secret
// disabled, as NAVER does: it is enabled on purpose, afterwards.
func (e *Engine) CancelSecretDeletion(ctx context.Context, id string) (*coffer.Secret, error) {
	return e.moveSecret(ctx, id, actionDelete, func(_ storage.Tx, s *coffer.Secret) error {
		if s.State != coffer.SecretDeletionScheduled {
			return statusError(s, "restored")
		}
		s.State = coffer.SecretDisabled
		s.DeletionRequestedAt, s.PurgeAt = nil, nil
		return nil
	})
}

// DestroySecret removes a secret scheduled for deletion, with its
// versions, at once.
func (e *Engine) DestroySecret(ctx context.Context, id string) error {
	return e.deleteSecret(ctx, id, func(tx storage.Tx, s *coffer.Secret) error {
		if s.State != coffer.SecretDeletionScheduled {
			return statusError(s, "destroyed")
		}
		return storageErr(tx.DeleteSecret(ctx, id), "secret", id)
	})
}

// scheduleDeletion marks a secret scheduled for deletion, to be destroyed
// after its project's waiting period. The one rule of NAVER's
// request-deletion and Scaleway's DeleteSecret.
func (e *Engine) scheduleDeletion(ctx context.Context, tx storage.Tx, s *coffer.Secret) error {
	p, err := tx.GetProject(ctx, s.ProjectID)
	if err != nil {
		return storageErr(err, "project", s.ProjectID)
	}
	now := e.Now()
	s.State = coffer.SecretDeletionScheduled
	s.DeletionRequestedAt = &now
	s.PurgeAt = new(now.Add(p.Settings.SecretDeletionDelay()))
	return nil
}
