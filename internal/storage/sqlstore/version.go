package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

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
const versionDataColumns = versionColumns + `, v.data, v.data IS NULL`

// versionFrom joins a version with its secret, which holds its project.
const versionFrom = `FROM versions v JOIN secrets s ON s.id = v.secret_id`

const (
	getVersionSQL = `SELECT ` + versionDataColumns + ` ` + versionFrom + `
WHERE v.secret_id = ? AND v.revision = ?`
	createVersionSQL = `INSERT INTO versions (secret_id, revision, state,
state_before_deletion, description, data_crc32, size, ephemeral, expires_at, disabled_at,
deletion_requested_at, purge_at, destroyed_at, accessed_at, created_by, created_at,
updated_at, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateVersionSQL = `UPDATE versions SET state = ?,
state_before_deletion = ?, description = ?, data_crc32 = ?, size = ?, ephemeral = ?,
expires_at = ?, disabled_at = ?, deletion_requested_at = ?, purge_at = ?, destroyed_at = ?,
accessed_at = ?, created_by = ?, updated_at = ?, data = ?
WHERE secret_id = ? AND revision = ?`
)

// scanVersion reads the versionColumns of one row.
func scanVersion(row Row) (*storage.Version, error) { return scanVersionRow(row, false) }

// scanVersionData reads the versionDataColumns of one row.
func scanVersionData(row Row) (*storage.Version, error) { return scanVersionRow(row, true) }

// versionCols are the columns of a version row that are decoded after the
// scan, and the scan's destinations. They are one value so that scanning,
// which makes every destination escape, allocates them once.
type versionCols struct {
	state, stateBefore                                                                string
	crc, expiresAt, disabledAt, deletionRequestedAt, purgeAt, destroyedAt, accessedAt sql.NullInt64
	ephemeral                                                                         sql.NullString
	revision, createdAt, updatedAt                                                    int64
	data                                                                              []byte
	dataIsNull                                                                        bool
	dest                                                                              [20]any
}

// scanVersionRow reads the versionColumns of one row, and the data of
// versionDataColumns if withData.
func scanVersionRow(row Row, withData bool) (*storage.Version, error) {
	v := new(storage.Version)
	c := new(versionCols)
	c.dest = [...]any{&v.SecretID, &c.revision, &c.state, &c.stateBefore,
		&v.Description, &c.crc, &v.Size, &c.ephemeral, &c.expiresAt, &c.disabledAt,
		&c.deletionRequestedAt, &c.purgeAt, &c.destroyedAt, &c.accessedAt, &v.CreatedBy,
		&c.createdAt, &c.updatedAt, &v.ProjectID, &c.data, &c.dataIsNull}
	dest := c.dest[:18]
	if withData {
		dest = c.dest[:]
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if v.Revision, err = getUint32(c.revision); err != nil {
		return nil, fmt.Errorf("version of secret %s: revision: %w", v.SecretID, err)
	}
	v.State = coffer.VersionState(c.state)
	v.StateBeforeDeletion = coffer.VersionState(c.stateBefore)
	if v.DataCRC32, err = getUint32Ptr(c.crc); err != nil {
		return nil, fmt.Errorf("version %s/%d: data_crc32: %w", v.SecretID, v.Revision, err)
	}
	if v.Ephemeral, err = getVersionEphemeral(c.ephemeral, c.expiresAt); err != nil {
		return nil, fmt.Errorf("version %s/%d: ephemeral: %w", v.SecretID, v.Revision, err)
	}
	v.DisabledAt = getTimePtr(c.disabledAt)
	v.DeletionRequestedAt = getTimePtr(c.deletionRequestedAt)
	v.PurgeAt = getTimePtr(c.purgeAt)
	v.DestroyedAt = getTimePtr(c.destroyedAt)
	v.AccessedAt = getTimePtr(c.accessedAt)
	v.CreatedAt = getTime(c.createdAt)
	v.UpdatedAt = getTime(c.updatedAt)
	if withData {
		v.Data = getNullBytes(c.data, c.dataIsNull)
	}
	return v, nil
}

// CreateVersion returns ErrConflict for a taken (secret, revision), and
// ErrNotFound when the secret does not exist. v.ProjectID is not stored: a
// version's project is always its secret's.
func (t *Tx) CreateVersion(ctx context.Context, v *storage.Version) error {
	ephemeral, expiresAt, err := putVersionEphemeral(v.Ephemeral)
	if err != nil {
		return t.errorf("create version %s/%d: ephemeral: %w", v.SecretID, v.Revision, err)
	}
	_, err = t.exec(ctx, createVersionSQL,
		v.SecretID, int64(v.Revision), string(v.State),
		string(v.StateBeforeDeletion), v.Description, putUint32Ptr(v.DataCRC32), v.Size, ephemeral, expiresAt, putTimePtr(v.DisabledAt),
		putTimePtr(v.DeletionRequestedAt), putTimePtr(v.PurgeAt), putTimePtr(v.DestroyedAt), putTimePtr(v.AccessedAt), v.CreatedBy, putTime(v.CreatedAt),
		putTime(v.UpdatedAt), v.Data)
	if err != nil && t.s.d.Kind(err) == ForeignKey {
		// The only foreign key of a version is its secret.
		return t.errorf("create version %s/%d: %w", v.SecretID, v.Revision, notFound("secret"))
	} else if err != nil {
		return t.errorf("create version %s/%d: %w", v.SecretID, v.Revision, t.classify(err))
	}
	return nil
}

// GetVersion returns a version with its sealed data. Returns ErrNotFound.
func (t *Tx) GetVersion(ctx context.Context, secretID string, revision uint32) (*storage.Version, error) {
	v, err := scanVersionData(t.queryRow(ctx, getVersionSQL, secretID, int64(revision)))
	if err != nil {
		return nil, t.errorf("get version %s/%d: %w", secretID, revision, t.classify(err))
	}
	return v, nil
}

// UpdateVersion replaces every field of a version but its key and creation
// time, its sealed data included. Returns ErrNotFound.
func (t *Tx) UpdateVersion(ctx context.Context, v *storage.Version) error {
	ephemeral, expiresAt, err := putVersionEphemeral(v.Ephemeral)
	if err != nil {
		return t.errorf("update version %s/%d: ephemeral: %w", v.SecretID, v.Revision, err)
	}
	n, err := t.exec(ctx, updateVersionSQL,
		string(v.State),
		string(v.StateBeforeDeletion), v.Description, putUint32Ptr(v.DataCRC32), v.Size, ephemeral,
		expiresAt, putTimePtr(v.DisabledAt), putTimePtr(v.DeletionRequestedAt), putTimePtr(v.PurgeAt), putTimePtr(v.DestroyedAt),
		putTimePtr(v.AccessedAt), v.CreatedBy, putTime(v.UpdatedAt), v.Data,
		v.SecretID, int64(v.Revision))
	if err == nil {
		err = mustAffect(n, "version")
	}
	if err != nil {
		return t.errorf("update version %s/%d: %w", v.SecretID, v.Revision, t.classify(err))
	}
	return nil
}

const deleteVersionSQL = `DELETE FROM versions WHERE secret_id = ? AND revision = ?`

// DeleteVersion removes a version. Returns ErrNotFound.
func (t *Tx) DeleteVersion(ctx context.Context, secretID string, revision uint32) error {
	n, err := t.exec(ctx, deleteVersionSQL, secretID, int64(revision))
	if err == nil {
		err = mustAffect(n, "version")
	}
	if err != nil {
		return t.errorf("delete version %s/%d: %w", secretID, revision, t.classify(err))
	}
	return nil
}

// ListVersions returns one page of a secret's matching versions without
// their data, and the number of matches across all pages.
func (t *Tx) ListVersions(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*storage.Version, int, error) {
	vs, n, err := t.listVersions(ctx, secretID, f)
	if err != nil {
		return nil, 0, t.errorf("list versions of secret %s: %w", secretID, err)
	}
	return vs, n, nil
}

func (t *Tx) listVersions(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*storage.Version, int, error) {
	if err := checkPage(f.Offset, f.Limit); err != nil {
		return nil, 0, err
	}
	where := "v.secret_id = ?"
	args := []any{secretID}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			states[i] = string(s)
		}
		where += " AND " + t.inList("v.state", states, &args)
	}
	order := "v.revision ASC"
	if f.Descending {
		order = "v.revision DESC"
	}

	var total int
	if err := t.queryRowBuilt(ctx,
		`SELECT COUNT(*) FROM versions v WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, t.classify(err)
	}
	if f.Offset >= total {
		return nil, total, nil
	}
	page := pageClause(&args, f.Offset, f.Limit)
	rows, err := t.queryBuilt(ctx, `SELECT `+versionColumns+` `+versionFrom+`
WHERE `+where+` ORDER BY `+order+page, args...)
	if err != nil {
		return nil, 0, t.classify(err)
	}
	vs, err := collect(rows, scanVersion)
	if err != nil {
		return nil, 0, t.classify(err)
	}
	return vs, total, nil
}

// ListSecretsVersions returns the versions of several secrets without their
// data, grouped by secret in the order of secretIDs, each secret's newest
// first: one query for a page of a listing rather than one per secret.
func (t *Tx) ListSecretsVersions(ctx context.Context, secretIDs []string) ([]*storage.Version, error) {
	if len(secretIDs) == 0 {
		return nil, nil
	}
	var args []any
	rows, err := t.queryBuilt(ctx, `SELECT `+versionColumns+` `+versionFrom+`
WHERE `+t.inList("v.secret_id", secretIDs, &args)+` ORDER BY v.secret_id, v.revision DESC`, args...)
	if err != nil {
		return nil, t.errorf("list versions of %d secrets: %w", len(secretIDs), t.classify(err))
	}
	vs, err := collect(rows, scanVersion)
	if err != nil {
		return nil, t.errorf("list versions of %d secrets: %w", len(secretIDs), t.classify(err))
	}
	rank := make(map[string]int, len(secretIDs))
	for i, id := range secretIDs {
		if _, ok := rank[id]; !ok {
			rank[id] = i
		}
	}
	slices.SortStableFunc(vs, func(a, b *storage.Version) int { return cmp.Compare(rank[a.SecretID], rank[b.SecretID]) })
	return vs, nil
}
