package storage

import (
	"context"

	"github.com/coffer-dev/coffer"
)

// KeyVault is a key vault with its target's credential sealed.
type KeyVault struct {
	coffer.KeyVault
	// SealedCredential is the target's credential sealed under the root
	// key, bound to the vault's id; nil for a vault without target.
	SealedCredential []byte
}

// KeyVaultTx is implemented by the Tx of stores that keep key vaults,
// their secrets' deployments and labels (IMCO).
type KeyVaultTx interface {
	// CreateKeyVault returns ErrConflict for a taken id, or a taken name
	// or path in the project.
	CreateKeyVault(ctx context.Context, v *KeyVault) error
	// GetKeyVault returns ErrNotFound.
	GetKeyVault(ctx context.Context, id string) (*KeyVault, error)
	// GetKeyVaultByPath returns the vault of a project's folder. Returns
	// ErrNotFound.
	GetKeyVaultByPath(ctx context.Context, projectID, path string) (*KeyVault, error)
	// UpdateKeyVault replaces every field but the id, the project and the
	// creation time. Returns ErrNotFound, ErrConflict.
	UpdateKeyVault(ctx context.Context, v *KeyVault) error
	// DeleteKeyVault returns ErrNotFound.
	DeleteKeyVault(ctx context.Context, id string) error
	// ListKeyVaults returns the vaults of some projects, or of every
	// project when projectIDs is nil, ordered by name and id.
	ListKeyVaults(ctx context.Context, projectIDs []string) ([]*KeyVault, error)

	// PutDeployment creates or replaces the deployment of a secret.
	PutDeployment(ctx context.Context, d *coffer.Deployment) error
	// GetDeployment returns ErrNotFound.
	GetDeployment(ctx context.Context, secretID string) (*coffer.Deployment, error)
	// ListDeployments returns the deployments of a vault, by secret id.
	ListDeployments(ctx context.Context, keyVaultID string) ([]*coffer.Deployment, error)
	// DeleteDeployment returns ErrNotFound.
	DeleteDeployment(ctx context.Context, secretID string) error

	// CreateLabel returns ErrConflict for a taken id or (organization, name).
	CreateLabel(ctx context.Context, l *coffer.Label) error
	// GetLabel returns ErrNotFound.
	GetLabel(ctx context.Context, id string) (*coffer.Label, error)
	// ListLabels returns an organization's labels ordered by name.
	ListLabels(ctx context.Context, organizationID string) ([]*coffer.Label, error)
}
