package sqlstore

import "context"

const (
	getMetaSQL = `SELECT value FROM meta WHERE name = ?`
	putMetaSQL = `INSERT INTO meta (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value`
)

// GetMeta returns a named value. Returns ErrNotFound. It takes no lock of
// its own: a backend whose Update does not lock the whole database locks
// the name first.
func (t *Tx) GetMeta(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	if err := t.queryRow(ctx, getMetaSQL, name).Scan(&v); err != nil {
		return nil, t.errorf("get meta %q: %w", name, t.classify(err))
	}
	return getBytes(v), nil
}

// PutMeta creates or replaces a named value. A nil value is stored empty.
func (t *Tx) PutMeta(ctx context.Context, name string, value []byte) error {
	if _, err := t.exec(ctx, putMetaSQL, name, putBytes(value)); err != nil {
		return t.errorf("put meta %q: %w", name, t.classify(err))
	}
	return nil
}
