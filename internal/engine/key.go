package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/storage"
)

// CreateProtectionKey creates a user-managed protection key in a project and
// returns its id; secrets name it in KeyID to have their versions sealed
// under it. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) CreateProtectionKey(ctx context.Context, projectID, name string) (string, error) {
	c, err := caller(ctx)
	if err != nil {
		return "", err
	}
	if err := validateID("project_id", projectID); err != nil {
		return "", err
	}
	if err := validateDisplayName("name", name); err != nil {
		return "", err
	}
	var id string
	err = e.update(ctx, func(tx storage.Tx) error {
		if err := e.authorize(ctx, tx, c, actionKeys, projectID, "/"); err != nil {
			return err
		}
		k, err := e.keyring.CreateKey(ctx, tx, projectID, name)
		if err != nil {
			return err
		}
		id = k.ID
		return nil
	})
	return id, err
}

var _ coffer.ProtectionKeyService = (*Engine)(nil)

// ChangeProtectionKey re-seals every version of a secret under keyID ("" is
// the project's default key) in one transaction, and makes it the key of
// the versions to come: the versions are opened under their old key and
// sealed under the new one with the same associated data, so a version is
// never stored in the clear and a failure changes nothing. Refused while
// the secret's deletion is scheduled. Returns EINVALID, ENOTFOUND (the
// secret, or a key not of its project), EFORBIDDEN, EPRECONDITION.
func (e *Engine) ChangeProtectionKey(ctx context.Context, secretID, keyID string) (*coffer.Secret, error) {
	if keyID != "" {
		if err := validateID("key_id", keyID); err != nil {
			return nil, err
		}
	}
	return e.moveSecret(ctx, secretID, actionWrite, func(tx storage.Tx, s *coffer.Secret) error {
		if s.State == coffer.SecretDeletionScheduled {
			return statusError(s, "protection key changed")
		}
		if keyID != "" {
			k, err := tx.GetKey(ctx, keyID)
			if errors.Is(err, storage.ErrNotFound) || err == nil && k.ProjectID != s.ProjectID {
				return coffer.NotFound("key", keyID)
			} else if err != nil {
				return err
			}
		}
		if keyID == s.KeyID {
			return nil
		}
		vs, _, err := tx.ListVersions(ctx, s.ID, coffer.VersionFilter{})
		if err != nil {
			return err
		}
		for _, lv := range vs {
			v, err := tx.GetVersion(ctx, s.ID, lv.Revision)
			if err != nil {
				return err
			}
			if v.Data == nil {
				continue
			}
			ad := envelope.VersionAD(s.ProjectID, s.ID, v.Revision)
			plain, err := e.keyring.OpenVersion(ctx, tx, v.Data, ad)
			if err != nil {
				return fmt.Errorf("open version %d of secret %s: %w", v.Revision, s.ID, err)
			}
			v.Data, err = e.keyring.SealVersion(ctx, tx, s.ProjectID, keyID, plain, ad)
			clear(plain)
			if err != nil {
				return err
			}
			if err := tx.UpdateVersion(ctx, v); err != nil {
				return storageErr(err, "version", strconv.FormatUint(uint64(v.Revision), 10))
			}
		}
		s.KeyID = keyID
		return nil
	})
}
