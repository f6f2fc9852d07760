package postgres

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage"
)

// apiKeyColumns are the columns scanAPIKey reads.
const apiKeyColumns = `access_key, principal_id, organization_id, default_project_id,
description, disabled, expires_at, created_at, secret_hash, sealed_secret`

// scanAPIKey reads the apiKeyColumns of one row.
func scanAPIKey(row scanner) (*storage.APIKey, error) {
	var k storage.APIKey
	var expiresAt *int64
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
func (t *tx) CreateAPIKey(ctx context.Context, k *storage.APIKey) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		k.AccessKey, k.PrincipalID, k.OrganizationID, k.DefaultProjectID,
		k.Description, k.Disabled, putTimePtr(k.ExpiresAt), putTime(k.CreatedAt),
		putBytes(k.SecretHash), putBytes(k.SealedSecret))
	if err != nil {
		return fmt.Errorf("postgres: create API key %s: %w", k.AccessKey, classify(err))
	}
	return nil
}

// GetAPIKey returns the key with this access key. Returns ErrNotFound.
func (t *tx) GetAPIKey(ctx context.Context, accessKey string) (*storage.APIKey, error) {
	k, err := scanAPIKey(t.tx.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE access_key = $1`, accessKey))
	if err != nil {
		return nil, fmt.Errorf("postgres: get API key %s: %w", accessKey, classify(err))
	}
	return k, nil
}

// GetAPIKeyBySecretHash returns the key whose SecretHash is hash. Returns
// ErrNotFound.
func (t *tx) GetAPIKeyBySecretHash(ctx context.Context, hash []byte) (*storage.APIKey, error) {
	k, err := scanAPIKey(t.tx.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE secret_hash = $1`, putBytes(hash)))
	if err != nil {
		// The hash stays out of the message: it identifies a credential.
		return nil, fmt.Errorf("postgres: get API key by secret hash: %w", classify(err))
	}
	return k, nil
}

// UpdateAPIKey replaces a key's description, disabled flag and expiry.
// Returns ErrNotFound.
func (t *tx) UpdateAPIKey(ctx context.Context, k *storage.APIKey) error {
	tag, err := t.tx.Exec(ctx, `UPDATE api_keys
SET description = $1, disabled = $2, expires_at = $3 WHERE access_key = $4`,
		k.Description, k.Disabled, putTimePtr(k.ExpiresAt), k.AccessKey)
	if err == nil {
		err = mustAffect(tag, "API key")
	}
	if err != nil {
		return fmt.Errorf("postgres: update API key %s: %w", k.AccessKey, classify(err))
	}
	return nil
}
