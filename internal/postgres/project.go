package postgres

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer"
)

// CreateOrganization returns ErrConflict for a taken id.
func (t *tx) CreateOrganization(ctx context.Context, o *coffer.Organization) error {
	_, err := t.tx.Exec(ctx,
		`INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)`,
		o.ID, o.Name, putTime(o.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: create organization %s: %w", o.ID, classify(err))
	}
	return nil
}

// GetOrganization returns ErrNotFound.
func (t *tx) GetOrganization(ctx context.Context, id string) (*coffer.Organization, error) {
	var o coffer.Organization
	var createdAt int64
	err := t.tx.QueryRow(ctx,
		`SELECT id, name, created_at FROM organizations WHERE id = $1`, id,
	).Scan(&o.ID, &o.Name, &createdAt)
	if err != nil {
		return nil, fmt.Errorf("postgres: get organization %s: %w", id, classify(err))
	}
	o.CreatedAt = getTime(createdAt)
	return &o, nil
}

// projectColumns are the columns scanProject reads.
const projectColumns = `id, organization_id, name, max_versions, cas_required, version_ttl, created_at, updated_at`

// scanProject reads the projectColumns of one row.
func scanProject(row scanner) (*coffer.Project, error) {
	var p coffer.Project
	var ttl, createdAt, updatedAt int64
	err := row.Scan(&p.ID, &p.OrganizationID, &p.Name,
		&p.Settings.MaxVersions, &p.Settings.CASRequired, &ttl,
		&createdAt, &updatedAt)
	if err != nil {
		return nil, err
	}
	p.Settings.VersionTTL = durationOf(ttl)
	p.CreatedAt = getTime(createdAt)
	p.UpdatedAt = getTime(updatedAt)
	return &p, nil
}

// CreateProject returns ErrConflict for a taken id or (organization, name).
func (t *tx) CreateProject(ctx context.Context, p *coffer.Project) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO projects (`+projectColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.ID, p.OrganizationID, p.Name,
		p.Settings.MaxVersions, p.Settings.CASRequired, int64(p.Settings.VersionTTL),
		putTime(p.CreatedAt), putTime(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("postgres: create project %s: %w", p.ID, classify(err))
	}
	return nil
}

// GetProject returns ErrNotFound.
func (t *tx) GetProject(ctx context.Context, id string) (*coffer.Project, error) {
	p, err := scanProject(t.tx.QueryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: get project %s: %w", id, classify(err))
	}
	return p, nil
}

// UpdateProject replaces a project's name, settings and update time. Returns
// ErrNotFound, and ErrConflict for a name taken in the organization.
func (t *tx) UpdateProject(ctx context.Context, p *coffer.Project) error {
	tag, err := t.tx.Exec(ctx, `UPDATE projects
SET name = $1, max_versions = $2, cas_required = $3, version_ttl = $4, updated_at = $5
WHERE id = $6`,
		p.Name, p.Settings.MaxVersions, p.Settings.CASRequired, int64(p.Settings.VersionTTL),
		putTime(p.UpdatedAt), p.ID)
	if err == nil {
		err = mustAffect(tag, "project")
	}
	if err != nil {
		return fmt.Errorf("postgres: update project %s: %w", p.ID, classify(err))
	}
	return nil
}

// ListProjects returns an organization's projects ordered by name.
func (t *tx) ListProjects(ctx context.Context, organizationID string) ([]*coffer.Project, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+projectColumns+` FROM projects
WHERE organization_id = $1 ORDER BY name, id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list projects: %w", classify(err))
	}
	ps, err := collect(rows, scanProject)
	if err != nil {
		return nil, fmt.Errorf("postgres: list projects: %w", classify(err))
	}
	return ps, nil
}
