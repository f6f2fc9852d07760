package postgres

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage"
)

// keyColumns are the columns scanKey reads.
const keyColumns = `id, project_id, name, is_default, created_at`

// scanKey reads the keyColumns of one row.
func scanKey(row scanner) (*storage.Key, error) {
	var k storage.Key
	var createdAt int64
	if err := row.Scan(&k.ID, &k.ProjectID, &k.Name, &k.Default, &createdAt); err != nil {
		return nil, err
	}
	k.CreatedAt = getTime(createdAt)
	return &k, nil
}

// CreateKey records a protection key. Returns ErrConflict for a taken id, or
// a second default key in one project.
func (t *tx) CreateKey(ctx context.Context, k *storage.Key) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.ProjectID, k.Name, k.Default, putTime(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: create key %s: %w", k.ID, classify(err))
	}
	return nil
}

// GetKey returns ErrNotFound.
func (t *tx) GetKey(ctx context.Context, id string) (*storage.Key, error) {
	k, err := scanKey(t.tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: get key %s: %w", id, classify(err))
	}
	return k, nil
}

// GetDefaultKey returns a project's default key. Returns ErrNotFound.
func (t *tx) GetDefaultKey(ctx context.Context, projectID string) (*storage.Key, error) {
	k, err := scanKey(t.tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE project_id = $1 AND is_default`, projectID))
	if err != nil {
		return nil, fmt.Errorf("postgres: get default key of project %s: %w", projectID, classify(err))
	}
	return k, nil
}

// CreateKeyVersion returns ErrConflict for a taken (key, version).
func (t *tx) CreateKeyVersion(ctx context.Context, v *storage.KeyVersion) error {
	_, err := t.tx.Exec(ctx,
		`INSERT INTO key_versions (key_id, version, wrapped, created_at) VALUES ($1, $2, $3, $4)`,
		v.KeyID, int64(v.Version), putBytes(v.Wrapped), putTime(v.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: create key version %s/%d: %w", v.KeyID, v.Version, classify(err))
	}
	return nil
}

// scanKeyVersion reads a key version's key_id, version, wrapped and
// created_at.
func scanKeyVersion(row scanner) (*storage.KeyVersion, error) {
	var v storage.KeyVersion
	var version, createdAt int64
	if err := row.Scan(&v.KeyID, &version, &v.Wrapped, &createdAt); err != nil {
		return nil, err
	}
	var err error
	if v.Version, err = getUint32(version); err != nil {
		return nil, fmt.Errorf("key %s: version: %w", v.KeyID, err)
	}
	v.Wrapped = getBytes(v.Wrapped)
	v.CreatedAt = getTime(createdAt)
	return &v, nil
}

// GetKeyVersion returns ErrNotFound.
func (t *tx) GetKeyVersion(ctx context.Context, keyID string, version uint32) (*storage.KeyVersion, error) {
	v, err := scanKeyVersion(t.tx.QueryRow(ctx,
		`SELECT key_id, version, wrapped, created_at FROM key_versions WHERE key_id = $1 AND version = $2`,
		keyID, int64(version)))
	if err != nil {
		return nil, fmt.Errorf("postgres: get key version %s/%d: %w", keyID, version, classify(err))
	}
	return v, nil
}

// LatestKeyVersion returns a key's highest version. Returns ErrNotFound.
func (t *tx) LatestKeyVersion(ctx context.Context, keyID string) (*storage.KeyVersion, error) {
	v, err := scanKeyVersion(t.tx.QueryRow(ctx,
		`SELECT key_id, version, wrapped, created_at FROM key_versions WHERE key_id = $1
ORDER BY version DESC LIMIT 1`, keyID))
	if err != nil {
		return nil, fmt.Errorf("postgres: latest version of key %s: %w", keyID, classify(err))
	}
	return v, nil
}
