package sqlstore

import (
	"context"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.OrganizationTx = (*Tx)(nil)

// organizationColumns are the columns scanOrganization reads.
const organizationColumns = `id, name, created_at`

func scanOrganization(row Row) (*coffer.Organization, error) {
	var o coffer.Organization
	var createdAt int64
	if err := row.Scan(&o.ID, &o.Name, &createdAt); err != nil {
		return nil, err
	}
	o.CreatedAt = getTime(createdAt)
	return &o, nil
}

// CreateOrganization returns ErrConflict for a taken id.
func (t *Tx) CreateOrganization(ctx context.Context, o *coffer.Organization) error {
	_, err := t.exec(ctx,
		`INSERT INTO organizations (`+organizationColumns+`) VALUES (?, ?, ?)`,
		o.ID, o.Name, putTime(o.CreatedAt))
	if err != nil {
		return t.errorf("create organization %s: %w", o.ID, t.classify(err))
	}
	return nil
}

// GetOrganization returns ErrNotFound.
func (t *Tx) GetOrganization(ctx context.Context, id string) (*coffer.Organization, error) {
	o, err := scanOrganization(t.queryRow(ctx,
		`SELECT `+organizationColumns+` FROM organizations WHERE id = ?`, id))
	if err != nil {
		return nil, t.errorf("get organization %s: %w", id, t.classify(err))
	}
	return o, nil
}

// ListOrganizations returns every organization ordered by creation time,
// then id.
func (t *Tx) ListOrganizations(ctx context.Context) ([]*coffer.Organization, error) {
	rows, err := t.query(ctx, `SELECT `+organizationColumns+` FROM organizations ORDER BY created_at, id`)
	if err != nil {
		return nil, t.errorf("list organizations: %w", t.classify(err))
	}
	out, err := collect(rows, scanOrganization)
	if err != nil {
		return nil, t.errorf("list organizations: %w", t.classify(err))
	}
	return out, nil
}
