package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.KeyRotationTx = (*Tx)(nil)

// keyRotationColumns are the columns scanKeyRotation reads.
const keyRotationColumns = `key_id, project_id, to_version, after_secret, after_revision, pass,
pass_rewrapped, scanned, rewrapped, total, started_at, updated_at, completed_at`

const (
	putKeyRotationSQL = `INSERT INTO key_rotations (` + keyRotationColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key_id) DO UPDATE SET project_id = excluded.project_id,
to_version = excluded.to_version, after_secret = excluded.after_secret,
after_revision = excluded.after_revision, pass = excluded.pass,
pass_rewrapped = excluded.pass_rewrapped, scanned = excluded.scanned,
rewrapped = excluded.rewrapped, total = excluded.total, started_at = excluded.started_at,
updated_at = excluded.updated_at, completed_at = excluded.completed_at`
	getKeyRotationSQL = `SELECT ` + keyRotationColumns + ` FROM key_rotations WHERE key_id = ?`
	// scanVersionDataSQL walks a project's versions that hold data by the
	// primary key of versions (secret_id, revision).
	scanVersionDataSQL = `SELECT ` + versionDataColumns + ` ` + versionFrom + `
WHERE s.project_id = ? AND v.data IS NOT NULL
AND (v.secret_id > ? OR (v.secret_id = ? AND v.revision > ?))
ORDER BY v.secret_id, v.revision LIMIT ?`
	countVersionDataSQL = `SELECT COUNT(*) ` + versionFrom + `
WHERE s.project_id = ? AND v.data IS NOT NULL`
	rewrapVersionDataSQL = `UPDATE versions SET data = ?
WHERE secret_id = ? AND revision = ? AND data = ?`
	listRootWrappedSQL = `SELECT 'key_version', v.key_id, k.project_id, v.version, v.wrapped
FROM key_versions v JOIN keys k ON k.id = v.key_id
UNION ALL SELECT 'api_key', access_key, '', 0, sealed_secret FROM api_keys
UNION ALL SELECT 'trigger', id, '', 0, sealed_secret FROM triggers
UNION ALL SELECT 'key_vault', id, '', 0, credential FROM key_vaults WHERE credential IS NOT NULL`
)

// scanKeyRotation reads the keyRotationColumns of one row.
func scanKeyRotation(row Row) (*storage.KeyRotation, error) {
	var (
		r                                 storage.KeyRotation
		toVersion, afterRevision, pass    int64
		started, updated                  int64
		completed                         sql.NullInt64
		passRewrapped, scanned, rewrapped int64
		total                             int64
	)
	if err := row.Scan(&r.KeyID, &r.ProjectID, &toVersion, &r.AfterSecret, &afterRevision, &pass,
		&passRewrapped, &scanned, &rewrapped, &total, &started, &updated, &completed); err != nil {
		return nil, err
	}
	var err error
	if r.ToVersion, err = getUint32(toVersion); err != nil {
		return nil, fmt.Errorf("key rotation %s: to_version: %w", r.KeyID, err)
	}
	if r.AfterRevision, err = getUint32(afterRevision); err != nil {
		return nil, fmt.Errorf("key rotation %s: after_revision: %w", r.KeyID, err)
	}
	r.Pass = int(pass)
	r.PassRewrapped, r.Scanned, r.Rewrapped, r.Total = passRewrapped, scanned, rewrapped, total
	r.StartedAt, r.UpdatedAt = getTime(started), getTime(updated)
	r.CompletedAt = getTimePtr(completed)
	return &r, nil
}

// PutKeyRotation creates or replaces the rotation of r.KeyID.
func (t *Tx) PutKeyRotation(ctx context.Context, r *storage.KeyRotation) error {
	_, err := t.exec(ctx, putKeyRotationSQL, r.KeyID, r.ProjectID, int64(r.ToVersion),
		r.AfterSecret, int64(r.AfterRevision), int64(r.Pass), r.PassRewrapped, r.Scanned,
		r.Rewrapped, r.Total, putTime(r.StartedAt), putTime(r.UpdatedAt), putTimePtr(r.CompletedAt))
	if err != nil {
		return t.errorf("put rotation of key %s: %w", r.KeyID, t.classify(err))
	}
	return nil
}

// GetKeyRotation returns ErrNotFound.
func (t *Tx) GetKeyRotation(ctx context.Context, keyID string) (*storage.KeyRotation, error) {
	r, err := scanKeyRotation(t.queryRow(ctx, getKeyRotationSQL, keyID))
	if err != nil {
		return nil, t.errorf("get rotation of key %s: %w", keyID, t.classify(err))
	}
	return r, nil
}

// ListKeyRotations returns the rotations of some projects, or of all, by
// start time then key id.
func (t *Tx) ListKeyRotations(ctx context.Context, projectIDs []string, open bool) ([]*storage.KeyRotation, error) {
	if projectIDs != nil && len(projectIDs) == 0 {
		return nil, nil
	}
	var args []any
	q := `SELECT ` + keyRotationColumns + ` FROM key_rotations WHERE 1 = 1`
	if projectIDs != nil {
		q += ` AND ` + t.inList("project_id", projectIDs, &args)
	}
	if open {
		q += ` AND completed_at IS NULL`
	}
	rows, err := t.queryBuilt(ctx, q+` ORDER BY started_at, key_id`, args...)
	if err != nil {
		return nil, t.errorf("list key rotations: %w", t.classify(err))
	}
	rs, err := collect(rows, scanKeyRotation)
	if err != nil {
		return nil, t.errorf("list key rotations: %w", t.classify(err))
	}
	return rs, nil
}

// ScanVersionData returns up to limit versions with data of a project,
// after (afterSecret, afterRevision).
func (t *Tx) ScanVersionData(ctx context.Context, projectID, afterSecret string, afterRevision uint32, limit int) ([]*storage.Version, error) {
	rows, err := t.query(ctx, scanVersionDataSQL, projectID, afterSecret, afterSecret, int64(afterRevision), limit)
	if err != nil {
		return nil, t.errorf("scan versions of project %s: %w", projectID, t.classify(err))
	}
	vs, err := collect(rows, scanVersionData)
	if err != nil {
		return nil, t.errorf("scan versions of project %s: %w", projectID, t.classify(err))
	}
	return vs, nil
}

// CountVersionData returns how many versions of a project hold data.
func (t *Tx) CountVersionData(ctx context.Context, projectID string) (int64, error) {
	var n int64
	if err := t.queryRow(ctx, countVersionDataSQL, projectID).Scan(&n); err != nil {
		return 0, t.errorf("count versions of project %s: %w", projectID, t.classify(err))
	}
	return n, nil
}

// RewrapVersionData replaces a version's data if it is still old.
func (t *Tx) RewrapVersionData(ctx context.Context, secretID string, revision uint32, old, data []byte) error {
	n, err := t.exec(ctx, rewrapVersionDataSQL, data, secretID, int64(revision), old)
	if err != nil {
		return t.errorf("rewrap version %s/%d: %w", secretID, revision, t.classify(err))
	}
	if n == 0 {
		return t.errorf("rewrap version %s/%d: %w", secretID, revision, storage.ErrNotFound)
	}
	return nil
}

// ListRootWrapped returns every value sealed under the root key but meta
// values.
func (t *Tx) ListRootWrapped(ctx context.Context) ([]*storage.RootWrapped, error) {
	rows, err := t.query(ctx, listRootWrappedSQL)
	if err != nil {
		return nil, t.errorf("list values sealed under the root key: %w", t.classify(err))
	}
	ws, err := collect(rows, func(row Row) (*storage.RootWrapped, error) {
		var (
			w       storage.RootWrapped
			version int64
		)
		if err := row.Scan(&w.Kind, &w.ID, &w.ProjectID, &version, &w.Sealed); err != nil {
			return nil, err
		}
		var err error
		if w.Version, err = getUint32(version); err != nil {
			return nil, err
		}
		w.Sealed = getBytes(w.Sealed)
		return &w, nil
	})
	if err != nil {
		return nil, t.errorf("list values sealed under the root key: %w", t.classify(err))
	}
	return ws, nil
}

// UpdateRootWrapped replaces the sealed value of the record w names.
func (t *Tx) UpdateRootWrapped(ctx context.Context, w *storage.RootWrapped) error {
	var (
		n   int64
		err error
	)
	switch w.Kind {
	case storage.RootWrappedKeyVersion:
		n, err = t.exec(ctx, `UPDATE key_versions SET wrapped = ? WHERE key_id = ? AND version = ?`, w.Sealed, w.ID, int64(w.Version))
	case storage.RootWrappedAPIKey:
		n, err = t.exec(ctx, `UPDATE api_keys SET sealed_secret = ? WHERE access_key = ?`, w.Sealed, w.ID)
	case storage.RootWrappedTrigger:
		n, err = t.exec(ctx, `UPDATE triggers SET sealed_secret = ? WHERE id = ?`, w.Sealed, w.ID)
	case storage.RootWrappedKeyVault:
		n, err = t.exec(ctx, `UPDATE key_vaults SET credential = ? WHERE id = ? AND credential IS NOT NULL`, w.Sealed, w.ID)
	default:
		return fmt.Errorf("update value sealed under the root key: unknown kind %q", w.Kind)
	}
	if err != nil {
		return t.errorf("update %s %s sealed under the root key: %w", w.Kind, w.ID, t.classify(err))
	}
	if n == 0 {
		return t.errorf("update %s %s sealed under the root key: %w", w.Kind, w.ID, storage.ErrNotFound)
	}
	return nil
}
