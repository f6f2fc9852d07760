package sqlstore

import (
	"context"

	"github.com/coffer-dev/coffer"
)

// principalColumns are the columns scanPrincipal reads.
const principalColumns = `id, organization_id, kind, name, admin, created_at`

const getPrincipalSQL = `SELECT ` + principalColumns + ` FROM principals WHERE id = ?`

// scanPrincipal reads the principalColumns of one row.
func scanPrincipal(row Row) (*coffer.Principal, error) {
	var p coffer.Principal
	var kind string
	var createdAt int64
	if err := row.Scan(&p.ID, &p.OrganizationID, &kind, &p.Name, &p.Admin, &createdAt); err != nil {
		return nil, err
	}
	p.Kind = coffer.PrincipalKind(kind)
	p.CreatedAt = getTime(createdAt)
	return &p, nil
}

// CreatePrincipal returns ErrConflict for a taken id.
func (t *Tx) CreatePrincipal(ctx context.Context, p *coffer.Principal) error {
	_, err := t.exec(ctx, `INSERT INTO principals (`+principalColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrganizationID, string(p.Kind), p.Name, p.Admin, putTime(p.CreatedAt))
	if err != nil {
		return t.errorf("create principal %s: %w", p.ID, t.classify(err))
	}
	return nil
}

// GetPrincipal returns ErrNotFound.
func (t *Tx) GetPrincipal(ctx context.Context, id string) (*coffer.Principal, error) {
	p, err := scanPrincipal(t.queryRow(ctx, getPrincipalSQL, id))
	if err != nil {
		return nil, t.errorf("get principal %s: %w", id, t.classify(err))
	}
	return p, nil
}
