package sqlstore

import (
	"context"
	"database/sql"

	"github.com/coffer-dev/coffer/internal/storage"
)

// apiKeyColumns are the columns scanAPIKey reads.
const apiKeyColumns = `access_key, principal_id, organization_id, default_project_id,
description, disabled, expires_at, created_at, secret_hash, sealed_secret`

const (
	getAPIKeySQL             = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE access_key = ?`
	getAPIKeyBySecretHashSQL = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE secret_hash = ?`
)

// scanAPIKey reads the apiKeyColumns of one row.
func scanAPIKey(row Row) (*storage.APIKey, error) {
	var k storage.APIKey
	var expiresAt sql.NullInt64
	var createdAt int64
	err := row.Scan(&k.AccessKey, &k.PrincipalID, &k.OrganizationID, &k.DefaultProjectID,
		&k.Description, &k.Disabled, &expiresAt, &createdAt, &k.SecretHash, &k.SealedSecret)
	if err != nil {
		return nil, err
	}
	k.ExpiresAt = getTimePtr(expiresAt)
	k.CreatedAt = getTime(createdAt)
	k.SecretHash = getBytes(k.SecretHash)
	k.SealedSecret = getBytes(k.SealedSecret)
	return &k, nil
}

// CreateAPIKey returns ErrConflict for a taken access key or secret hash.
func (t *Tx) CreateAPIKey(ctx context.Context, k *storage.APIKey) error {
	_, err := t.exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.AccessKey, k.PrincipalID, k.OrganizationID, k.DefaultProjectID,
		k.Description, k.Disabled, putTimePtr(k.ExpiresAt), putTime(k.CreatedAt),
		putBytes(k.SecretHash), putBytes(k.SealedSecret))
	if err != nil {
		return t.errorf("create API key %s: %w", k.AccessKey, t.classify(err))
	}
	return nil
}

// GetAPIKey returns the key with this access key. Returns ErrNotFound.
func (t *Tx) GetAPIKey(ctx context.Context, accessKey string) (*storage.APIKey, error) {
	k, err := scanAPIKey(t.queryRow(ctx, getAPIKeySQL, accessKey))
	if err != nil {
		return nil, t.errorf("get API key %s: %w", accessKey, t.classify(err))
	}
	return k, nil
}

// GetAPIKeyBySecretHash returns the key whose SecretHash is hash. Returns
// ErrNotFound.
func (t *Tx) GetAPIKeyBySecretHash(ctx context.Context, hash []byte) (*storage.APIKey, error) {
	k, err := scanAPIKey(t.queryRow(ctx, getAPIKeyBySecretHashSQL, putBytes(hash)))
	if err != nil {
		// The hash stays out of the message: it identifies a credential.
		return nil, t.errorf("get API key by secret hash: %w", t.classify(err))
	}
	return k, nil
}

// UpdateAPIKey replaces a key's description, disabled flag and expiry.
// Returns ErrNotFound.
func (t *Tx) UpdateAPIKey(ctx context.Context, k *storage.APIKey) error {
	n, err := t.exec(ctx, `UPDATE api_keys
SET description = ?, disabled = ?, expires_at = ? WHERE access_key = ?`,
		k.Description, k.Disabled, putTimePtr(k.ExpiresAt), k.AccessKey)
	if err == nil {
		err = mustAffect(n, "API key")
	}
	if err != nil {
		return t.errorf("update API key %s: %w", k.AccessKey, t.classify(err))
	}
	return nil
}
