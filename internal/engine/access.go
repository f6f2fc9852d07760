package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/storage"
)

// errExpired is returned for a version whose ephemeral policy fired.
func errExpired(v *storage.Version) error {
	return coffer.Precondition("version_expired", "secret_version", fmt.Sprint(v.Revision), "the secret version has expired")
}

// AccessVersion returns a version with its data. Most reads are one read
// transaction. A version that expires once accessed, or whose expiry has
// passed, is handled in a write transaction so that its policy fires exactly
// once, before any data leaves. Every read that hands out data is noted for
// the version's accessed_at (accessed.go), which is written later, in
// batches: this is the one door through which every dialect reads data.
func (e *Engine) AccessVersion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Secret, *coffer.Version, coffer.Payload, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		s    *coffer.Secret
		v    *storage.Version
		data coffer.Payload
		slow bool
	)
	now := e.Now()
	err = e.view(ctx, func(tx storage.Tx) error {
		if s, v, err = e.loadVersion(ctx, tx, c, actionAccess, secretID, rev); err != nil {
			return err
		}
		if err := readable(s, v); err != nil {
			return err
		}
		if ep := v.Ephemeral; ep != nil && (ep.ExpiresOnceAccessed || expired(v, now)) {
			slow = true
			return nil
		}
		data, err = e.open(ctx, tx, s, v)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if slow {
		s, v, data, err := e.accessEphemeral(ctx, c, secretID, rev)
		if err == nil {
			e.recordAccess(s.ID, v.Revision, now)
		}
		return s, v, data, err
	}
	v.Data = nil
	e.recordAccess(s.ID, v.Revision, now)
	return s, &v.Version, data, nil
}

// accessEphemeral reads a version whose ephemeral policy may fire, and fires
// it, in one write transaction.
func (e *Engine) accessEphemeral(ctx context.Context, c *coffer.Caller, secretID string, rev coffer.Revision) (*coffer.Secret, *coffer.Version, coffer.Payload, error) {
	var (
		s        *coffer.Secret
		v        *storage.Version
		data     coffer.Payload
		expiredV bool
	)
	err := e.update(ctx, func(tx storage.Tx) error {
		var err error
		if s, v, err = e.loadVersion(ctx, tx, c, actionAccess, secretID, rev); err != nil {
			return err
		}
		if err := readable(s, v); err != nil {
			return err
		}
		now := e.Now()
		if expired(v, now) {
			expiredV = true
			return e.expire(ctx, tx, s, v, now)
		}
		if data, err = e.open(ctx, tx, s, v); err != nil {
			return err
		}
		if v.Ephemeral != nil && v.Ephemeral.ExpiresOnceAccessed {
			v.AccessedAt = &now
			return e.expire(ctx, tx, s, v, now)
		}
		return nil
	})
	if err != nil {
		data.Wipe()
		return nil, nil, nil, err
	}
	if expiredV {
		return nil, nil, nil, errExpired(v)
	}
	v.Data = nil
	return s, &v.Version, data, nil
}

// readable returns why a version's data cannot be read, or nil.
func readable(s *coffer.Secret, v *storage.Version) error {
	if err := usable(s); err != nil {
		return err
	}
	rev := fmt.Sprint(v.Revision)
	switch v.State {
	case coffer.VersionEnabled:
		return nil
	case coffer.VersionDisabled:
		return coffer.Precondition(coffer.PreconditionDisabled, "secret_version", rev, "the secret version is disabled")
	case coffer.VersionScheduledForDeletion:
		return coffer.Precondition(coffer.PreconditionVersionDeleted, "secret_version", rev, "the secret version is scheduled for deletion")
	}
	return coffer.Precondition(coffer.PreconditionVersionDestroyed, "secret_version", rev, "the secret version is destroyed")
}

// expired reports whether a version's expiry time has come.
func expired(v *storage.Version, now time.Time) bool {
	return v.Ephemeral != nil && v.Ephemeral.ExpiresAt != nil && !now.Before(*v.Ephemeral.ExpiresAt)
}

// expire applies a version's ephemeral action in tx: disable, or delete,
// which erases the data at once.
func (e *Engine) expire(ctx context.Context, tx storage.Tx, s *coffer.Secret, v *storage.Version, now time.Time) error {
	if v.Ephemeral != nil && v.Ephemeral.Action == coffer.EphemeralDelete {
		destroy(v, now)
	} else {
		disable(v, now)
	}
	return saveVersion(ctx, tx, s, v)
}

// saveVersion stores a changed version and, when it destroyed the secret's
// latest revision, the secret with its new latest revision.
func saveVersion(ctx context.Context, tx storage.Tx, s *coffer.Secret, v *storage.Version) error {
	if err := tx.UpdateVersion(ctx, v); err != nil {
		return err
	}
	if v.State != coffer.VersionDestroyed || v.Revision != s.LatestRevision {
		return nil
	}
	if err := refreshLatest(ctx, tx, s); err != nil {
		return err
	}
	return tx.UpdateSecret(ctx, s)
}

// open decrypts a version's data. A ciphertext that does not authenticate
// (tampered, or moved from another row) is an internal error that wraps
// envelope.ErrIntegrity; it is logged without any data.
func (e *Engine) open(ctx context.Context, tx storage.Tx, s *coffer.Secret, v *storage.Version) (coffer.Payload, error) {
	ad := envelope.VersionAD(s.ProjectID, s.ID, v.Revision)
	data, err := e.keyring.OpenVersion(ctx, tx, v.Data, ad)
	if err != nil {
		if errors.Is(err, envelope.ErrIntegrity) {
			e.log.ErrorContext(ctx, "version data failed its integrity check",
				"secret_id", s.ID, "revision", v.Revision, "request_id", coffer.RequestIDFromContext(ctx))
		}
		return nil, fmt.Errorf("open secret %s revision %d: %w", s.ID, v.Revision, err)
	}
	return coffer.Payload(data), nil
}
