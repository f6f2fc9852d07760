package sqlite

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer"
)

const getPrincipalSQL = `SELECT id, organization_id, kind, name, admin, created_at
FROM principals WHERE id = ?`

// CreatePrincipal returns ErrConflict for a taken id.
func (t *tx) CreatePrincipal(ctx context.Context, p *coffer.Principal) error {
	_, err := t.exec(ctx, `INSERT INTO principals
(id, organization_id, kind, name, admin, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrganizationID, string(p.Kind), p.Name, p.Admin, putTime(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create principal %s: %w", p.ID, classify(err))
	}
	return nil
}

// GetPrincipal returns ErrNotFound.
func (t *tx) GetPrincipal(ctx context.Context, id string) (*coffer.Principal, error) {
	var p coffer.Principal
	var createdAt int64
	err := t.queryRow(ctx, getPrincipalSQL, id).Scan(&p.ID, &p.OrganizationID, &p.Kind, &p.Name, &p.Admin, &createdAt)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get principal %s: %w", id, classify(err))
	}
	p.CreatedAt = getTime(createdAt)
	return &p, nil
}
