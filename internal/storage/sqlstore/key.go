package sqlstore

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage"
)

// keyColumns are the columns scanKey reads.
const keyColumns = `id, project_id, name, is_default, created_at`

// keyVersionColumns are the columns scanKeyVersion reads.
const keyVersionColumns = `key_id, version, wrapped, created_at`

const (
	getKeySQL           = `SELECT ` + keyColumns + ` FROM keys WHERE id = ?`
	getDefaultKeySQL    = `SELECT ` + keyColumns + ` FROM keys WHERE project_id = ? AND is_default`
	getKeyVersionSQL    = `SELECT ` + keyVersionColumns + ` FROM key_versions WHERE key_id = ? AND version = ?`
	latestKeyVersionSQL = `SELECT ` + keyVersionColumns + ` FROM key_versions WHERE key_id = ?
ORDER BY version DESC LIMIT 1`
)

// scanKey reads the keyColumns of one row.
func scanKey(row Row) (*storage.Key, error) {
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
func (t *Tx) CreateKey(ctx context.Context, k *storage.Key) error {
	_, err := t.exec(ctx, `INSERT INTO keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.ProjectID, k.Name, k.Default, putTime(k.CreatedAt))
	if err != nil {
		return t.errorf("create key %s: %w", k.ID, t.classify(err))
	}
	return nil
}

// GetKey returns ErrNotFound.
func (t *Tx) GetKey(ctx context.Context, id string) (*storage.Key, error) {
	k, err := scanKey(t.queryRow(ctx, getKeySQL, id))
	if err != nil {
		return nil, t.errorf("get key %s: %w", id, t.classify(err))
	}
	return k, nil
}

// GetDefaultKey returns a project's default key. Returns ErrNotFound.
func (t *Tx) GetDefaultKey(ctx context.Context, projectID string) (*storage.Key, error) {
	k, err := scanKey(t.queryRow(ctx, getDefaultKeySQL, projectID))
	if err != nil {
		return nil, t.errorf("get default key of project %s: %w", projectID, t.classify(err))
	}
	return k, nil
}

// CreateKeyVersion returns ErrConflict for a taken (key, version).
func (t *Tx) CreateKeyVersion(ctx context.Context, v *storage.KeyVersion) error {
	_, err := t.exec(ctx,
		`INSERT INTO key_versions (`+keyVersionColumns+`) VALUES (?, ?, ?, ?)`,
		v.KeyID, int64(v.Version), putBytes(v.Wrapped), putTime(v.CreatedAt))
	if err != nil {
		return t.errorf("create key version %s/%d: %w", v.KeyID, v.Version, t.classify(err))
	}
	return nil
}

// scanKeyVersion reads the keyVersionColumns of one row.
func scanKeyVersion(row Row) (*storage.KeyVersion, error) {
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
func (t *Tx) GetKeyVersion(ctx context.Context, keyID string, version uint32) (*storage.KeyVersion, error) {
	v, err := scanKeyVersion(t.queryRow(ctx, getKeyVersionSQL, keyID, int64(version)))
	if err != nil {
		return nil, t.errorf("get key version %s/%d: %w", keyID, version, t.classify(err))
	}
	return v, nil
}

// LatestKeyVersion returns a key's highest version. Returns ErrNotFound.
func (t *Tx) LatestKeyVersion(ctx context.Context, keyID string) (*storage.KeyVersion, error) {
	v, err := scanKeyVersion(t.queryRow(ctx, latestKeyVersionSQL, keyID))
	if err != nil {
		return nil, t.errorf("latest version of key %s: %w", keyID, t.classify(err))
	}
	return v, nil
}
