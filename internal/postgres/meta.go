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
	var v []byte
	if err := t.tx.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("postgres: get meta %q: %w", name, classify(err))
	}
	return getBytes(v), nil
}

// PutMeta creates or replaces a named value. A nil value is stored empty.
func (t *tx) PutMeta(ctx context.Context, name string, value []byte) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, putBytes(value))
	if err != nil {
		return fmt.Errorf("postgres: put meta %q: %w", name, classify(err))
	}
	return nil
}
