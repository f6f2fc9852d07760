package engine

import (
	"context"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// GetProject returns a project of the caller's organization.
// Returns EINVALID, ENOTFOUND.
func (e *Engine) GetProject(ctx context.Context, id string) (*coffer.Project, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateID("project_id", id); err != nil {
		return nil, err
	}
	var p *coffer.Project
	err = e.view(ctx, func(tx storage.Tx) error {
		if err := e.authorize(ctx, tx, c, actionRead, id, "/"); err != nil {
			return err
		}
		var err error
		p, err = tx.GetProject(ctx, id)
		return storageErr(err, "project", id)
	})
	return p, err
}

// UpdateProjectSettings replaces a project's defaults.
// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) UpdateProjectSettings(ctx context.Context, id string, s coffer.ProjectSettings) (*coffer.Project, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateID("project_id", id); err != nil {
		return nil, err
	}
	// A negative version TTL is valid for a project: it turns the secrets'
	// TTLs off.
	if err := validateSettings(s.MaxVersions, max(s.VersionTTL, 0)); err != nil {
		return nil, err
	}
	if err := validateDeletionDelay(s.DeletionDelay); err != nil {
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
		p.Settings = s
		p.UpdatedAt = e.Now()
		return storageErr(tx.UpdateProject(ctx, p), "project", id)
	})
	return p, err
}

// validateSettings checks version-keeping settings shared by projects and
// secrets.
func validateSettings(maxVersions int, ttl time.Duration) error {
	if maxVersions < 0 || maxVersions > 10000 {
		return coffer.Invalid("max_versions", coffer.ReasonConstraint, "max_versions must be between 0 and 10000")
	}
	if ttl < 0 {
		return coffer.Invalid("version_ttl", coffer.ReasonConstraint, "version_ttl must not be negative")
	}
	return nil
}

// validateDeletionDelay checks a project's deletion waiting period: 0 (the
// default) or from coffer.MinDeletionDelay to coffer.MaxDeletionDelay.
func validateDeletionDelay(d time.Duration) error {
	if d != 0 && (d < coffer.MinDeletionDelay || d > coffer.MaxDeletionDelay) {
		return coffer.Invalid("deletion_delay", coffer.ReasonConstraint, "the deletion waiting period must be from 1 to 90 days")
	}
	return nil
}
