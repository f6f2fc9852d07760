package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

// secretColumns are the columns scanSecret reads, of the table aliased s.
const secretColumns = `s.id, s.project_id, s.path, s.name, s.type, s.description, s.tags,
s.protected, s.used_by, s.custom_metadata, s.max_versions, s.cas_required, s.version_ttl,
s.ephemeral, s.rotation, s.key_id, s.key_vault_id, s.state, s.deletion_requested_at,
s.purge_at, s.last_revision, s.latest_revision, s.oldest_revision, s.version_count,
s.stages, s.created_at, s.updated_at`

const (
	getSecretSQL       = `SELECT ` + secretColumns + ` FROM secrets s WHERE s.id = ?`
	getSecretByPathSQL = `SELECT ` + secretColumns + ` FROM secrets s
WHERE s.project_id = ? AND s.path = ? AND s.name = ?`
	createSecretSQL = `INSERT INTO secrets (id, project_id, path, name, type,
description, tags, protected, used_by, custom_metadata, max_versions, cas_required,
version_ttl, ephemeral, rotation, key_id, key_vault_id, state, deletion_requested_at,
purge_at, last_revision, latest_revision, oldest_revision, version_count, stages,
created_at, updated_at, trigger_id, rotate_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// updateSecretSQL returns the project the secret's tags are indexed
	// under, which the update does not change, to save a lookup.
	updateSecretSQL = `UPDATE secrets SET path = ?, name = ?, type = ?,
description = ?, tags = ?, protected = ?, used_by = ?, custom_metadata = ?, max_versions = ?,
cas_required = ?, version_ttl = ?, ephemeral = ?, rotation = ?, key_id = ?, key_vault_id = ?,
state = ?, deletion_requested_at = ?, purge_at = ?, last_revision = ?, latest_revision = ?,
oldest_revision = ?, version_count = ?, stages = ?, updated_at = ?, trigger_id = ?, rotate_at = ?
WHERE id = ?
RETURNING project_id`
	deleteSecretTagsSQL = `DELETE FROM secret_tags WHERE secret_id = ?`
	// putTagArraySQL records a secret's distinct tags, given as an array,
	// where the driver binds arrays.
	putTagArraySQL = `INSERT INTO secret_tags (secret_id, project_id, tag)
SELECT ?, ?, tag FROM unnest(?::text[]) AS tag`
)

// secretCols are the columns of a secret row that are decoded after the
// scan. They are one value so that scanning, which makes every destination
// escape, allocates them once.
type secretCols struct {
	typ, state                                                string
	tags, usedBy, customMetadata, ephemeral, rotation, stages sql.NullString
	deletionRequestedAt, purgeAt                              sql.NullInt64
	ttl, lastRevision, latestRevision, oldestRevision         int64
	createdAt, updatedAt                                      int64
}

// scanSecret reads the secretColumns of one row.
func scanSecret(row Row) (*coffer.Secret, error) {
	s := new(coffer.Secret)
	c := new(secretCols)
	err := row.Scan(&s.ID, &s.ProjectID, &s.Path, &s.Name, &c.typ, &s.Description, &c.tags,
		&s.Protected, &c.usedBy, &c.customMetadata, &s.MaxVersions, &s.CASRequired, &c.ttl,
		&c.ephemeral, &c.rotation, &s.KeyID, &s.KeyVaultID, &c.state, &c.deletionRequestedAt,
		&c.purgeAt, &c.lastRevision, &c.latestRevision, &c.oldestRevision, &s.VersionCount,
		&c.stages, &c.createdAt, &c.updatedAt)
	if err != nil {
		return nil, err
	}
	s.Type = coffer.SecretType(c.typ)
	s.State = coffer.SecretState(c.state)
	s.VersionTTL = time.Duration(c.ttl)
	if s.LastRevision, err = getUint32(c.lastRevision); err != nil {
		return nil, fmt.Errorf("secret %s: last_revision: %w", s.ID, err)
	}
	if s.LatestRevision, err = getUint32(c.latestRevision); err != nil {
		return nil, fmt.Errorf("secret %s: latest_revision: %w", s.ID, err)
	}
	if s.OldestRevision, err = getUint32(c.oldestRevision); err != nil {
		return nil, fmt.Errorf("secret %s: oldest_revision: %w", s.ID, err)
	}
	if s.Tags, err = getStrings(c.tags); err != nil {
		return nil, fmt.Errorf("secret %s: tags: %w", s.ID, err)
	}
	if s.UsedBy, err = getStrings(c.usedBy); err != nil {
		return nil, fmt.Errorf("secret %s: used_by: %w", s.ID, err)
	}
	if s.CustomMetadata, err = getStringMap(c.customMetadata); err != nil {
		return nil, fmt.Errorf("secret %s: custom_metadata: %w", s.ID, err)
	}
	if s.Ephemeral, err = getEphemeralPolicy(c.ephemeral); err != nil {
		return nil, fmt.Errorf("secret %s: ephemeral: %w", s.ID, err)
	}
	if s.Rotation, err = getRotation(c.rotation); err != nil {
		return nil, fmt.Errorf("secret %s: rotation: %w", s.ID, err)
	}
	if s.Stages, err = getStages(c.stages); err != nil {
		return nil, fmt.Errorf("secret %s: stages: %w", s.ID, err)
	}
	s.DeletionRequestedAt = getTimePtr(c.deletionRequestedAt)
	s.PurgeAt = getTimePtr(c.purgeAt)
	s.CreatedAt = getTime(c.createdAt)
	s.UpdatedAt = getTime(c.updatedAt)
	return s, nil
}

// secretRow holds the structured fields of a secret encoded for its row.
type secretRow struct {
	tags, usedBy, customMetadata, ephemeral, rotation, stages any
	// triggerID and rotateAt are derived from the rotation policy, for
	// the indexes of migration 0009.
	triggerID, rotateAt any
}

// encodeSecret encodes the structured fields of s.
func encodeSecret(s *coffer.Secret) (r secretRow, err error) {
	if r.tags, err = putStrings(s.Tags); err != nil {
		return r, fmt.Errorf("tags: %w", err)
	}
	if r.usedBy, err = putStrings(s.UsedBy); err != nil {
		return r, fmt.Errorf("used_by: %w", err)
	}
	if r.customMetadata, err = putStringMap(s.CustomMetadata); err != nil {
		return r, fmt.Errorf("custom_metadata: %w", err)
	}
	if r.ephemeral, err = putEphemeralPolicy(s.Ephemeral); err != nil {
		return r, fmt.Errorf("ephemeral: %w", err)
	}
	if r.rotation, err = putRotation(s.Rotation); err != nil {
		return r, fmt.Errorf("rotation: %w", err)
	}
	if r.stages, err = putStages(s.Stages); err != nil {
		return r, fmt.Errorf("stages: %w", err)
	}
	r.triggerID, r.rotateAt = nil, putTimePtr(s.Rotation.RotateAt())
	if s.Rotation != nil && s.Rotation.TriggerID != "" {
		r.triggerID = s.Rotation.TriggerID
	}
	return r, nil
}

// CreateSecret returns ErrConflict for a taken id or (project, path, name).
func (t *Tx) CreateSecret(ctx context.Context, s *coffer.Secret) error {
	if err := t.createSecret(ctx, s); err != nil {
		return t.errorf("create secret %s: %w", s.ID, err)
	}
	return nil
}

func (t *Tx) createSecret(ctx context.Context, s *coffer.Secret) error {
	r, err := encodeSecret(s)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, createSecretSQL,
		s.ID, s.ProjectID, s.Path, s.Name, string(s.Type),
		s.Description, r.tags, s.Protected, r.usedBy, r.customMetadata, s.MaxVersions, s.CASRequired,
		int64(s.VersionTTL), r.ephemeral, r.rotation, s.KeyID, s.KeyVaultID, string(s.State), putTimePtr(s.DeletionRequestedAt),
		putTimePtr(s.PurgeAt), int64(s.LastRevision), int64(s.LatestRevision), int64(s.OldestRevision), s.VersionCount, r.stages,
		putTime(s.CreatedAt), putTime(s.UpdatedAt), r.triggerID, r.rotateAt)
	if err != nil {
		return t.classify(err)
	}
	return t.putTags(ctx, s.ID, s.ProjectID, s.Tags)
}

// putTags records the distinct tags of a secret in secret_tags, which holds
// none of them yet: as one array where the driver binds arrays, else as
// rows of values.
func (t *Tx) putTags(ctx context.Context, secretID, projectID string, tags []string) error {
	seen := make(map[string]bool, len(tags))
	distinct := make([]string, 0, len(tags))
	for _, tag := range tags {
		if !seen[tag] {
			seen[tag] = true
			distinct = append(distinct, tag)
		}
	}
	if len(distinct) == 0 {
		return nil
	}
	var err error
	if t.s.d.Arrays {
		_, err = t.exec(ctx, putTagArraySQL, secretID, projectID, distinct)
	} else {
		args := make([]any, 0, 3*len(distinct))
		for _, tag := range distinct {
			args = append(args, secretID, projectID, tag)
		}
		values := strings.Repeat(", (?, ?, ?)", len(distinct))[2:]
		_, err = t.execBuilt(ctx, `INSERT INTO secret_tags (secret_id, project_id, tag) VALUES `+values, args...)
	}
	return t.classify(err)
}

// GetSecret returns ErrNotFound. Inside Update it locks the row: by the
// dialect's row lock, or by the lock on the whole database that the
// transaction holds.
func (t *Tx) GetSecret(ctx context.Context, id string) (*coffer.Secret, error) {
	s, err := scanSecret(t.queryRow(ctx, t.lockRow(getSecretSQL), id))
	if err != nil {
		return nil, t.errorf("get secret %s: %w", id, t.classify(err))
	}
	return s, nil
}

// GetSecretByPath returns ErrNotFound. Inside Update it locks the row, as
// GetSecret does.
func (t *Tx) GetSecretByPath(ctx context.Context, projectID, path, name string) (*coffer.Secret, error) {
	s, err := scanSecret(t.queryRow(ctx, t.lockRow(getSecretByPathSQL), projectID, path, name))
	if err != nil {
		return nil, t.errorf("get secret (%s, %q, %q): %w", projectID, path, name, t.classify(err))
	}
	return s, nil
}

// UpdateSecret replaces every field of a secret but its id, project and
// creation time. Returns ErrNotFound, ErrConflict for a taken (project, path,
// name).
func (t *Tx) UpdateSecret(ctx context.Context, s *coffer.Secret) error {
	if err := t.updateSecret(ctx, s); err != nil {
		return t.errorf("update secret %s: %w", s.ID, err)
	}
	return nil
}

func (t *Tx) updateSecret(ctx context.Context, s *coffer.Secret) error {
	r, err := encodeSecret(s)
	if err != nil {
		return err
	}
	var projectID string
	err = t.queryRow(ctx, updateSecretSQL,
		s.Path, s.Name, string(s.Type),
		s.Description, r.tags, s.Protected, r.usedBy, r.customMetadata, s.MaxVersions,
		s.CASRequired, int64(s.VersionTTL), r.ephemeral, r.rotation, s.KeyID, s.KeyVaultID,
		string(s.State), putTimePtr(s.DeletionRequestedAt), putTimePtr(s.PurgeAt), int64(s.LastRevision), int64(s.LatestRevision),
		int64(s.OldestRevision), s.VersionCount, r.stages, putTime(s.UpdatedAt), r.triggerID, r.rotateAt,
		s.ID).Scan(&projectID)
	if err != nil {
		return t.classify(err)
	}
	if _, err := t.exec(ctx, deleteSecretTagsSQL, s.ID); err != nil {
		return t.classify(err)
	}
	return t.putTags(ctx, s.ID, projectID, s.Tags)
}

// DeleteSecret removes a secret and, by the foreign keys' cascade, its
// versions and tags. Returns ErrNotFound.
func (t *Tx) DeleteSecret(ctx context.Context, id string) error {
	n, err := t.exec(ctx, `DELETE FROM secrets WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(n, "secret")
	}
	if err != nil {
		return t.errorf("delete secret %s: %w", id, t.classify(err))
	}
	return nil
}
