package postgres

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// versionColumns are the columns scanVersion reads, of the versions table
// aliased v joined with its secret aliased s. They leave the data out;
// versionDataColumns adds it.
const versionColumns = `v.secret_id, v.revision, v.state, v.state_before_deletion,
v.description, v.data_crc32, v.size, v.ephemeral, v.expires_at, v.disabled_at,
v.deletion_requested_at, v.purge_at, v.destroyed_at, v.accessed_at, v.created_by,
v.created_at, v.updated_at, s.project_id`

// versionDataColumns are versionColumns and the data, for scanVersionData.
const versionDataColumns = versionColumns + `, v.data`

// versionFrom joins a version with its secret, which holds its project.
const versionFrom = `FROM versions v JOIN secrets s ON s.id = v.secret_id`

const (
	getVersionSQL = `SELECT ` + versionDataColumns + ` ` + versionFrom + `
WHERE v.secret_id = $1 AND v.revision = $2`
	createVersionSQL = `INSERT INTO versions (secret_id, revision, state,
state_before_deletion, description, data_crc32, size, ephemeral, expires_at, disabled_at,
deletion_requested_at, purge_at, destroyed_at, accessed_at, created_by, created_at,
updated_at, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`
	updateVersionSQL = `UPDATE versions SET state = $1,
state_before_deletion = $2, description = $3, data_crc32 = $4, size = $5, ephemeral = $6,
expires_at = $7, disabled_at = $8, deletion_requested_at = $9, purge_at = $10, destroyed_at = $11,
accessed_at = $12, created_by = $13, updated_at = $14, data = $15
WHERE secret_id = $16 AND revision = $17`
)

// scanVersion reads the versionColumns of one row.
func scanVersion(row scanner) (*storage.Version, error) {
	return scanVersionWith(row)
}

// scanVersionData reads the versionDataColumns of one row. pgx reads NULL
// as a nil slice and an empty value as an empty one.
func scanVersionData(row scanner) (*storage.Version, error) {
	var data []byte
	v, err := scanVersionWith(row, &data)
	if err != nil {
		return nil, err
	}
	v.Data = data
	return v, nil
}

// scanVersionWith reads the versionColumns of one row and then the columns
// that follow them into extra.
func scanVersionWith(row scanner, extra ...any) (*storage.Version, error) {
	var v storage.Version
	var state, stateBefore string
	var crc, expiresAt, disabledAt, deletionRequestedAt, purgeAt, destroyedAt, accessedAt *int64
	var ephemeral *string
	var revision, createdAt, updatedAt int64
	dest := []any{&v.SecretID, &revision, &state, &stateBefore,
		&v.Description, &crc, &v.Size, &ephemeral, &expiresAt, &disabledAt,
		&deletionRequestedAt, &purgeAt, &destroyedAt, &accessedAt, &v.CreatedBy,
		&createdAt, &updatedAt, &v.ProjectID}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if v.Revision, err = getUint32(revision); err != nil {
		return nil, fmt.Errorf("version of secret %s: revision: %w", v.SecretID, err)
	}
	v.State = coffer.VersionState(state)
	v.StateBeforeDeletion = coffer.VersionState(stateBefore)
	if v.DataCRC32, err = getUint32Ptr(crc); err != nil {
		return nil, fmt.Errorf("version %s/%d: data_crc32: %w", v.SecretID, v.Revision, err)
	}
	if v.Ephemeral, err = getVersionEphemeral(ephemeral, expiresAt); err != nil {
		return nil, fmt.Errorf("version %s/%d: ephemeral: %w", v.SecretID, v.Revision, err)
	}
	v.DisabledAt = getTimePtr(disabledAt)
	v.DeletionRequestedAt = getTimePtr(deletionRequestedAt)
	v.PurgeAt = getTimePtr(purgeAt)
	v.DestroyedAt = getTimePtr(destroyedAt)
	v.AccessedAt = getTimePtr(accessedAt)
	v.CreatedAt = getTime(createdAt)
	v.UpdatedAt = getTime(updatedAt)
	return &v, nil
}

// CreateVersion returns ErrConflict for a taken (secret, revision), and
// ErrNotFound when the secret does not exist. v.ProjectID is not stored: a
// version's project is always its secret's.
func (t *tx) CreateVersion(ctx context.Context, v *storage.Version) error {
	ephemeral, expiresAt, err := putVersionEphemeral(v.Ephemeral)
	if err != nil {
		return fmt.Errorf("postgres: create version %s/%d: ephemeral: %w", v.SecretID, v.Revision, err)
	}
	_, err = t.tx.Exec(ctx, createVersionSQL,
		v.SecretID, int64(v.Revision), string(v.State),
		string(v.StateBeforeDeletion), v.Description, putUint32Ptr(v.DataCRC32), v.Size, ephemeral, expiresAt, putTimePtr(v.DisabledAt),
		putTimePtr(v.DeletionRequestedAt), putTimePtr(v.PurgeAt), putTimePtr(v.DestroyedAt), putTimePtr(v.AccessedAt), v.CreatedBy, putTime(v.CreatedAt),
		putTime(v.UpdatedAt), v.Data)
	if sqlState(err) == codeForeignKeyViolation {
		// The only foreign key of a version is its secret.
		return fmt.Errorf("postgres: create version %s/%d: %w", v.SecretID, v.Revision, notFound("secret"))
	} else if err != nil {
		return fmt.Errorf("postgres: create version %s/%d: %w", v.SecretID, v.Revision, classify(err))
	}
	return nil
}

// GetVersion returns a version with its sealed data. Returns ErrNotFound.
func (t *tx) GetVersion(ctx context.Context, secretID string, revision uint32) (*storage.Version, error) {
	v, err := scanVersionData(t.tx.QueryRow(ctx, getVersionSQL, secretID, int64(revision)))
	if err != nil {
		return nil, fmt.Errorf("postgres: get version %s/%d: %w", secretID, revision, classify(err))
	}
	return v, nil
}

// UpdateVersion replaces every field of a version but its key and creation
// time, its sealed data included. Returns ErrNotFound.
func (t *tx) UpdateVersion(ctx context.Context, v *storage.Version) error {
	ephemeral, expiresAt, err := putVersionEphemeral(v.Ephemeral)
	if err != nil {
		return fmt.Errorf("postgres: update version %s/%d: ephemeral: %w", v.SecretID, v.Revision, err)
	}
	tag, err := t.tx.Exec(ctx, updateVersionSQL,
		string(v.State),
		string(v.StateBeforeDeletion), v.Description, putUint32Ptr(v.DataCRC32), v.Size, ephemeral,
		expiresAt, putTimePtr(v.DisabledAt), putTimePtr(v.DeletionRequestedAt), putTimePtr(v.PurgeAt), putTimePtr(v.DestroyedAt),
		putTimePtr(v.AccessedAt), v.CreatedBy, putTime(v.UpdatedAt), v.Data,
		v.SecretID, int64(v.Revision))
	if err == nil {
		err = mustAffect(tag, "version")
	}
	if err != nil {
		return fmt.Errorf("postgres: update version %s/%d: %w", v.SecretID, v.Revision, classify(err))
	}
	return nil
}

// DeleteVersion removes a version. Returns ErrNotFound.
func (t *tx) DeleteVersion(ctx context.Context, secretID string, revision uint32) error {
	tag, err := t.tx.Exec(ctx,
		`DELETE FROM versions WHERE secret_id = $1 AND revision = $2`, secretID, int64(revision))
	if err == nil {
		err = mustAffect(tag, "version")
	}
	if err != nil {
		return fmt.Errorf("postgres: delete version %s/%d: %w", secretID, revision, classify(err))
	}
	return nil
}

// ListVersions returns one page of a secret's matching versions without
// their data, and the number of matches across all pages.
func (t *tx) ListVersions(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*storage.Version, int, error) {
	vs, n, err := t.listVersions(ctx, secretID, f)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list versions of secret %s: %w", secretID, err)
	}
	return vs, n, nil
}

func (t *tx) listVersions(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*storage.Version, int, error) {
	if err := checkPage(f.Offset, f.Limit); err != nil {
		return nil, 0, err
	}
	args := params{secretID}
	where := "v.secret_id = $1"
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			states[i] = string(s)
		}
		where += " AND v.state = ANY(" + args.add(states) + ")"
	}
	order := "v.revision ASC"
	if f.Descending {
		order = "v.revision DESC"
	}

	var total int
	if err := t.tx.QueryRow(ctx,
		`SELECT COUNT(*) FROM versions v WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, classify(err)
	}
	if f.Offset >= total {
		return nil, total, nil
	}
	page := pageClause(&args, f.Offset, f.Limit)
	rows, err := t.tx.Query(ctx, `SELECT `+versionColumns+` `+versionFrom+`
WHERE `+where+` ORDER BY `+order+page, args...)
	if err != nil {
		return nil, 0, classify(err)
	}
	vs, err := collect(rows, scanVersion)
	if err != nil {
		return nil, 0, classify(err)
	}
	return vs, total, nil
}
