package storage

import (
	"context"

	"github.com/coffer-dev/coffer"
)

// IAMTx is implemented by the Tx of stores that keep principals' policies
// and let principals and keys be listed and deleted.
type IAMTx interface {
	// ListPrincipals returns an organization's principals ordered by name,
	// then id.
	ListPrincipals(ctx context.Context, organizationID string) ([]*coffer.Principal, error)
	// DeletePrincipal removes a principal with its API keys, client
	// certificates and policies. Returns ErrNotFound.
	DeletePrincipal(ctx context.Context, id string) error

	// ListAPIKeys returns an organization's keys, or only a principal's for
	// a non-empty principalID, ordered by creation time then access key.
	ListAPIKeys(ctx context.Context, organizationID, principalID string) ([]*APIKey, error)
	// DeleteAPIKey returns ErrNotFound.
	DeleteAPIKey(ctx context.Context, accessKey string) error

	// CreatePolicy returns ErrConflict for a taken id or a principal that
	// does not exist.
	CreatePolicy(ctx context.Context, p *coffer.Policy) error
	// GetPolicy returns ErrNotFound.
	GetPolicy(ctx context.Context, id string) (*coffer.Policy, error)
	// ListPolicies returns an organization's policies, or only a
	// principal's for a non-empty principalID, ordered by creation time
	// then id.
	ListPolicies(ctx context.Context, organizationID, principalID string) ([]*coffer.Policy, error)
	// DeletePolicy returns ErrNotFound.
	DeletePolicy(ctx context.Context, id string) error
}
