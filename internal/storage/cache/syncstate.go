package cache

import (
	"context"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.SyncStateTx = (*tx)(nil)

// CountSyncStates is the store's: counts are never cached.
func (t *tx) CountSyncStates(ctx context.Context) (storage.SyncStates, error) {
	x, err := optionalTx[storage.SyncStateTx](t)
	if err != nil {
		return storage.SyncStates{}, err
	}
	return x.CountSyncStates(ctx)
}
