package cache

import (
	"context"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// The key vault records (IMCO) are not cached: they pass through to the
// store underneath.
var _ storage.KeyVaultTx = (*tx)(nil)

func (t *tx) CreateKeyVault(ctx context.Context, v *storage.KeyVault) error {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return err
	}
	return x.CreateKeyVault(ctx, v)
}

func (t *tx) GetKeyVault(ctx context.Context, id string) (*storage.KeyVault, error) {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetKeyVault(ctx, id)
}

func (t *tx) GetKeyVaultByPath(ctx context.Context, projectID, path string) (*storage.KeyVault, error) {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetKeyVaultByPath(ctx, projectID, path)
}

func (t *tx) UpdateKeyVault(ctx context.Context, v *storage.KeyVault) error {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return err
	}
	return x.UpdateKeyVault(ctx, v)
}

func (t *tx) DeleteKeyVault(ctx context.Context, id string) error {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return err
	}
	return x.DeleteKeyVault(ctx, id)
}

func (t *tx) ListKeyVaults(ctx context.Context, projectIDs []string) ([]*storage.KeyVault, error) {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListKeyVaults(ctx, projectIDs)
}

func (t *tx) PutDeployment(ctx context.Context, d *coffer.Deployment) error {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return err
	}
	return x.PutDeployment(ctx, d)
}

func (t *tx) GetDeployment(ctx context.Context, secretID string) (*coffer.Deployment, error) {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetDeployment(ctx, secretID)
}

func (t *tx) ListDeployments(ctx context.Context, keyVaultID string) ([]*coffer.Deployment, error) {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListDeployments(ctx, keyVaultID)
}

func (t *tx) DeleteDeployment(ctx context.Context, secretID string) error {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return err
	}
	return x.DeleteDeployment(ctx, secretID)
}

func (t *tx) CreateLabel(ctx context.Context, l *coffer.Label) error {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return err
	}
	return x.CreateLabel(ctx, l)
}

func (t *tx) GetLabel(ctx context.Context, id string) (*coffer.Label, error) {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetLabel(ctx, id)
}

func (t *tx) ListLabels(ctx context.Context, organizationID string) ([]*coffer.Label, error) {
	x, err := optionalTx[storage.KeyVaultTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListLabels(ctx, organizationID)
}
