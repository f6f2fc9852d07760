package postgres

import (
	"context"
	"fmt"
)

// lockMetaSQL takes a transaction-scoped lock on a meta name of the current
// schema. It runs as a statement of its own, before the read: at READ
// COMMITTED each statement reads a new snapshot, so the read that follows
// the wait sees what the transaction it waited for committed.
const lockMetaSQL = `SELECT pg_advisory_xact_lock(hashtext('coffer.meta.' || COALESCE(current_schema(), '')), hashtext($1))`

// GetMeta returns a named value. Returns ErrNotFound. Inside Update it locks
// the name first, whether a value exists or not, until the transaction ends.
func (t *tx) GetMeta(ctx context.Context, name string) ([]byte, error) {
	if t.write {
		if _, err := t.tx.Exec(ctx, lockMetaSQL, name); err != nil {
			return nil, fmt.Errorf("postgres: lock meta %q: %w", name, classify(err))
		}
	}
	return t.Tx.GetMeta(ctx, name)
}
