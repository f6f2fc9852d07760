package engine

import (
	"context"
	"errors"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ coffer.KeyValueService = (*Engine)(nil)

// PutSecret applies u to the secret at c's project, path and name, and
// creates that secret from c first when there is none, in one transaction.
// A secret created meanwhile by another node makes it try again, and update
// that one.
func (e *Engine) PutSecret(ctx context.Context, in coffer.SecretCreate, u coffer.SecretUpdate) (*coffer.Secret, bool, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, false, err
	}
	if u.Name != nil || u.Path != nil {
		return nil, false, coffer.Invalid("path", coffer.ReasonConstraint, "PutSecret cannot rename or move a secret")
	}
	if _, err := e.newSecret(in); err != nil {
		return nil, false, err
	}
	var (
		s              *coffer.Secret
		created, raced bool
	)
	put := func(tx storage.Tx) error {
		created, raced = false, false
		fresh, err := e.newSecret(in)
		if err != nil {
			return err
		}
		s, err = tx.GetSecretByPath(ctx, fresh.ProjectID, fresh.Path, fresh.Name)
		if errors.Is(err, storage.ErrNotFound) {
			s = fresh
			if err := applySecretUpdate(s, u); err != nil {
				return err
			}
			if err := e.insertSecret(ctx, tx, c, s); err != nil {
				raced = coffer.ErrorCode(err) == coffer.ECONFLICT
				return err
			}
			created = true
			return nil
		} else if err != nil {
			return err
		}
		if err := e.authorize(ctx, tx, c, actionWrite, s.ProjectID, s.Path); err != nil {
			if coffer.ErrorCode(err) == coffer.ENOTFOUND {
				return coffer.NotFound("secret", s.FullPath())
			}
			return err
		}
		if s.State == coffer.SecretDeletionScheduled {
			return coffer.Precondition(coffer.PreconditionDeletion, "secret", s.ID, "the secret is scheduled for deletion: restore it first")
		}
		if err := applySecretUpdate(s, u); err != nil {
			return err
		}
		s.UpdatedAt = e.Now()
		return storageErr(tx.UpdateSecret(ctx, s), "secret", s.ID)
	}
	for attempt := 1; ; attempt++ {
		err = e.update(ctx, put)
		if !raced || attempt == 3 {
			break
		}
	}
	if err != nil {
		return nil, false, err
	}
	return s, created, nil
}

// ChangeProjectSettings changes some of a project's settings in one
// transaction.
func (e *Engine) ChangeProjectSettings(ctx context.Context, id string, u coffer.ProjectSettingsUpdate) (*coffer.Project, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateID("project_id", id); err != nil {
		return nil, err
	}
	var p *coffer.Project
	err = e.update(ctx, func(tx storage.Tx) error {
		if err := e.authorize(ctx, tx, c, actionAdmin, id, "/"); err != nil {
			return err
		}
		var err error
		if p, err = tx.GetProject(ctx, id); err != nil {
			return storageErr(err, "project", id)
		}
		if u.MaxVersions != nil {
			p.Settings.MaxVersions = *u.MaxVersions
		}
		if u.CASRequired != nil {
			p.Settings.CASRequired = *u.CASRequired
		}
		if u.VersionTTL != nil {
			p.Settings.VersionTTL = *u.VersionTTL
		}
		if u.DeletionDelay != nil {
			p.Settings.DeletionDelay = *u.DeletionDelay
		}
		if err := validateDeletionDelay(p.Settings.DeletionDelay); err != nil {
			return err
		}
		// A negative version TTL is valid for a project: it turns the
		// secrets' TTLs off.
		if err := validateSettings(p.Settings.MaxVersions, max(p.Settings.VersionTTL, 0)); err != nil {
			return err
		}
		p.UpdatedAt = e.Now()
		return storageErr(tx.UpdateProject(ctx, p), "project", id)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// versionTTL is how long a new version of s lives: the shorter of the
// secret's and its project's version TTLs where both are set, else the one
// that is set, and forever when the project's is negative (Vault's
// delete_version_after rules).
func versionTTL(s *coffer.Secret, p *coffer.Project) time.Duration {
	pt := p.Settings.VersionTTL
	switch {
	case pt < 0:
		return 0
	case s.VersionTTL == 0:
		return pt
	case pt == 0:
		return s.VersionTTL
	}
	return min(s.VersionTTL, pt)
}
