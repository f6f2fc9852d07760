package sqlite

import (
	"context"
	"fmt"
)

const (
	getMetaSQL = `SELECT value FROM meta WHERE name = ?`
	putMetaSQL = `INSERT INTO meta (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value`
)

// GetMeta returns a named value. Returns ErrNotFound.
func (t *tx) GetMeta(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := t.queryRow(ctx, getMetaSQL, name).Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get meta %q: %w", name, classify(err))
	}
	return getBytes(v), nil
}

// PutMeta creates or replaces a named value. A nil value is stored empty.
func (t *tx) PutMeta(ctx context.Context, name string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := t.exec(ctx, putMetaSQL, name, value)
	if err != nil {
		return fmt.Errorf("sqlite: put meta %q: %w", name, classify(err))
	}
	return nil
}
