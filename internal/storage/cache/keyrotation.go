package cache

import (
	"context"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.KeyRotationTx = (*tx)(nil)

// Key rotations are never cached: their reads go to the store. A re-wrap of
// a version's data marks its secret like any other write, so that no node
// serves the data it replaced: on this node the mark, on the others the
// store's notification (ChangeSecret).

func (t *tx) PutKeyRotation(ctx context.Context, r *storage.KeyRotation) error {
	x, err := optionalTx[storage.KeyRotationTx](t)
	if err != nil {
		return err
	}
	return x.PutKeyRotation(ctx, r)
}

func (t *tx) GetKeyRotation(ctx context.Context, keyID string) (*storage.KeyRotation, error) {
	x, err := optionalTx[storage.KeyRotationTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetKeyRotation(ctx, keyID)
}

func (t *tx) ListKeyRotations(ctx context.Context, projectIDs []string, open bool) ([]*storage.KeyRotation, error) {
	x, err := optionalTx[storage.KeyRotationTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListKeyRotations(ctx, projectIDs, open)
}

func (t *tx) ScanVersionData(ctx context.Context, projectID, afterSecret string, afterRevision uint32, limit int) ([]*storage.Version, error) {
	x, err := optionalTx[storage.KeyRotationTx](t)
	if err != nil {
		return nil, err
	}
	return x.ScanVersionData(ctx, projectID, afterSecret, afterRevision, limit)
}

func (t *tx) CountVersionData(ctx context.Context, projectID string) (int64, error) {
	x, err := optionalTx[storage.KeyRotationTx](t)
	if err != nil {
		return 0, err
	}
	return x.CountVersionData(ctx, projectID)
}

// RewrapVersionData marks the secret, as UpdateVersion does.
func (t *tx) RewrapVersionData(ctx context.Context, secretID string, revision uint32, old, data []byte) error {
	x, err := optionalTx[storage.KeyRotationTx](t)
	if err != nil {
		return err
	}
	if t.write {
		t.mark(secretID)
	}
	return x.RewrapVersionData(ctx, secretID, revision, old, data)
}

func (t *tx) ListRootWrapped(ctx context.Context) ([]*storage.RootWrapped, error) {
	x, err := optionalTx[storage.KeyRotationTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListRootWrapped(ctx)
}

// UpdateRootWrapped changes a key version, an API key, a trigger or a key
// vault, none of which this cache keeps (key vaults: see keyvault.go).
func (t *tx) UpdateRootWrapped(ctx context.Context, w *storage.RootWrapped) error {
	x, err := optionalTx[storage.KeyRotationTx](t)
	if err != nil {
		return err
	}
	return x.UpdateRootWrapped(ctx, w)
}
