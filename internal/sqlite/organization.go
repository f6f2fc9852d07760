package sqlite

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/sqltext"
)

var _ storage.OrganizationTx = (*tx)(nil)

func scanOrganization(row scanner) (*coffer.Organization, error) {
	var o coffer.Organization
	var createdAt int64
	if err := row.Scan(&o.ID, &o.Name, &createdAt); err != nil {
		return nil, err
	}
	o.CreatedAt = getTime(createdAt)
	return &o, nil
}

// ListOrganizations returns every organization ordered by creation time,
// then id.
func (t *tx) ListOrganizations(ctx context.Context) ([]*coffer.Organization, error) {
	rows, err := t.query(ctx, sqltext.ListOrganizations)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list organizations: %w", classify(err))
	}
	out, err := collect(rows, scanOrganization)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list organizations: %w", classify(err))
	}
	return out, nil
}
