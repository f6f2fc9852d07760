package postgres

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer"
)

// CreatePrincipal returns ErrConflict for a taken id.
func (t *tx) CreatePrincipal(ctx context.Context, p *coffer.Principal) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO principals
(id, organization_id, kind, name, admin, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		p.ID, p.OrganizationID, string(p.Kind), p.Name, p.Admin, putTime(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: create principal %s: %w", p.ID, classify(err))
	}
	return nil
}

// GetPrincipal returns ErrNotFound.
func (t *tx) GetPrincipal(ctx context.Context, id string) (*coffer.Principal, error) {
	var p coffer.Principal
	var kind string
	var createdAt int64
	err := t.tx.QueryRow(ctx, `SELECT id, organization_id, kind, name, admin, created_at
FROM principals WHERE id = $1`, id).Scan(&p.ID, &p.OrganizationID, &kind, &p.Name, &p.Admin, &createdAt)
	if err != nil {
		return nil, fmt.Errorf("postgres: get principal %s: %w", id, classify(err))
	}
	p.Kind = coffer.PrincipalKind(kind)
	p.CreatedAt = getTime(createdAt)
	return &p, nil
}
