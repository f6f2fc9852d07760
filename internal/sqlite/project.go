package sqlite

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer"
)

// CreateOrganization returns ErrConflict for a taken id.
func (t *tx) CreateOrganization(ctx context.Context, o *coffer.Organization) error {
	_, err := t.exec(ctx,
		`INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)`,
		o.ID, o.Name, putTime(o.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create organization %s: %w", o.ID, classify(err))
	}
	return nil
}

// GetOrganization returns ErrNotFound.
func (t *tx) GetOrganization(ctx context.Context, id string) (*coffer.Organization, error) {
	var o coffer.Organization
	var createdAt int64
	err := t.queryRow(ctx,
		`SELECT id, name, created_at FROM organizations WHERE id = ?`, id,
	).Scan(&o.ID, &o.Name, &createdAt)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get organization %s: %w", id, classify(err))
	}
	o.CreatedAt = getTime(createdAt)
	return &o, nil
}

// projectColumns are the columns scanProject reads.
const projectColumns = `id, organization_id, name, max_versions, cas_required, version_ttl, created_at, updated_at`

const getProjectSQL = `SELECT ` + projectColumns + ` FROM projects WHERE id = ?`

// scanProject reads the projectColumns of one row.
func scanProject(row scanner) (*coffer.Project, error) {
	var p coffer.Project
	var createdAt, updatedAt int64
	err := row.Scan(&p.ID, &p.OrganizationID, &p.Name,
		&p.Settings.MaxVersions, &p.Settings.CASRequired, &p.Settings.VersionTTL,
		&createdAt, &updatedAt)
	if err != nil {
		return nil, err
	}
	p.CreatedAt = getTime(createdAt)
	p.UpdatedAt = getTime(updatedAt)
	return &p, nil
}

// CreateProject returns ErrConflict for a taken id or (organization, name).
func (t *tx) CreateProject(ctx context.Context, p *coffer.Project) error {
	_, err := t.exec(ctx, `INSERT INTO projects (`+projectColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrganizationID, p.Name,
		p.Settings.MaxVersions, p.Settings.CASRequired, int64(p.Settings.VersionTTL),
		putTime(p.CreatedAt), putTime(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create project %s: %w", p.ID, classify(err))
	}
	return nil
}

// GetProject returns ErrNotFound.
func (t *tx) GetProject(ctx context.Context, id string) (*coffer.Project, error) {
	p, err := scanProject(t.queryRow(ctx, getProjectSQL, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get project %s: %w", id, classify(err))
	}
	return p, nil
}

// UpdateProject replaces a project's name, settings and update time. Returns
// ErrNotFound, and ErrConflict for a name taken in the organization.
func (t *tx) UpdateProject(ctx context.Context, p *coffer.Project) error {
	res, err := t.exec(ctx, `UPDATE projects
SET name = ?, max_versions = ?, cas_required = ?, version_ttl = ?, updated_at = ?
WHERE id = ?`,
		p.Name, p.Settings.MaxVersions, p.Settings.CASRequired, int64(p.Settings.VersionTTL),
		putTime(p.UpdatedAt), p.ID)
	if err == nil {
		err = mustAffect(res, "project")
	}
	if err != nil {
		return fmt.Errorf("sqlite: update project %s: %w", p.ID, classify(err))
	}
	return nil
}

// ListProjects returns an organization's projects ordered by name.
func (t *tx) ListProjects(ctx context.Context, organizationID string) ([]*coffer.Project, error) {
	rows, err := t.query(ctx, `SELECT `+projectColumns+` FROM projects
WHERE organization_id = ? ORDER BY name, id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list projects: %w", classify(err))
	}
	ps, err := collect(rows, scanProject)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list projects: %w", err)
	}
	return ps, nil
}
