package sqlstore

import (
	"context"
	"time"

	"github.com/coffer-dev/coffer"
)

// projectColumns are the columns scanProject reads.
const projectColumns = `id, organization_id, name, max_versions, cas_required, version_ttl, deletion_delay, created_at, updated_at`

const getProjectSQL = `SELECT ` + projectColumns + ` FROM projects WHERE id = ?`

// scanProject reads the projectColumns of one row.
func scanProject(row Row) (*coffer.Project, error) {
	var p coffer.Project
	var ttl, delay, createdAt, updatedAt int64
	err := row.Scan(&p.ID, &p.OrganizationID, &p.Name,
		&p.Settings.MaxVersions, &p.Settings.CASRequired, &ttl, &delay,
		&createdAt, &updatedAt)
	if err != nil {
		return nil, err
	}
	p.Settings.VersionTTL = time.Duration(ttl)
	p.Settings.DeletionDelay = time.Duration(delay)
	p.CreatedAt = getTime(createdAt)
	p.UpdatedAt = getTime(updatedAt)
	return &p, nil
}

// CreateProject returns ErrConflict for a taken id or (organization, name).
func (t *Tx) CreateProject(ctx context.Context, p *coffer.Project) error {
	_, err := t.exec(ctx, `INSERT INTO projects (`+projectColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrganizationID, p.Name,
		p.Settings.MaxVersions, p.Settings.CASRequired, int64(p.Settings.VersionTTL), int64(p.Settings.DeletionDelay),
		putTime(p.CreatedAt), putTime(p.UpdatedAt))
	if err != nil {
		return t.errorf("create project %s: %w", p.ID, t.classify(err))
	}
	return nil
}

// GetProject returns ErrNotFound.
func (t *Tx) GetProject(ctx context.Context, id string) (*coffer.Project, error) {
	p, err := scanProject(t.queryRow(ctx, getProjectSQL, id))
	if err != nil {
		return nil, t.errorf("get project %s: %w", id, t.classify(err))
	}
	return p, nil
}

// UpdateProject replaces a project's name, settings and update time. Returns
// ErrNotFound, and ErrConflict for a name taken in the organization.
func (t *Tx) UpdateProject(ctx context.Context, p *coffer.Project) error {
	n, err := t.exec(ctx, `UPDATE projects
SET name = ?, max_versions = ?, cas_required = ?, version_ttl = ?, deletion_delay = ?, updated_at = ?
WHERE id = ?`,
		p.Name, p.Settings.MaxVersions, p.Settings.CASRequired, int64(p.Settings.VersionTTL), int64(p.Settings.DeletionDelay),
		putTime(p.UpdatedAt), p.ID)
	if err == nil {
		err = mustAffect(n, "project")
	}
	if err != nil {
		return t.errorf("update project %s: %w", p.ID, t.classify(err))
	}
	return nil
}

// ListProjects returns an organization's projects ordered by name.
func (t *Tx) ListProjects(ctx context.Context, organizationID string) ([]*coffer.Project, error) {
	rows, err := t.query(ctx, `SELECT `+projectColumns+` FROM projects
WHERE organization_id = ? ORDER BY name, id`, organizationID)
	if err != nil {
		return nil, t.errorf("list projects: %w", t.classify(err))
	}
	ps, err := collect(rows, scanProject)
	if err != nil {
		return nil, t.errorf("list projects: %w", t.classify(err))
	}
	return ps, nil
}
