package storage

import (
	"context"

	"github.com/coffer-dev/coffer"
)

// OrganizationTx is implemented by the Tx of stores that can list every
// organization. Only operators see more than their own organization, and
// the engine finds the system organization of a store bootstrapped before
// it was recorded by this listing.
type OrganizationTx interface {
	// ListOrganizations returns every organization ordered by creation
	// time, then id: the first is the oldest.
	ListOrganizations(ctx context.Context) ([]*coffer.Organization, error)
}
