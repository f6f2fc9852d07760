package sqlstore

import (
	"context"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// DueVersions returns up to limit versions that the scheduler must act on at
// time now: enabled versions whose ephemeral ExpiresAt is not after now, and
// versions scheduled for deletion whose PurgeAt is not after now. Without
// data, oldest due first; ties in (secret, revision) order. Each half of the
// union reads its own partial index.
func (t *Tx) DueVersions(ctx context.Context, now time.Time, limit int) ([]*storage.Version, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := t.query(ctx, `SELECT `+versionColumns+` FROM (
	SELECT secret_id, revision, expires_at AS due FROM versions WHERE state = ? AND expires_at <= ?
	UNION ALL
	SELECT secret_id, revision, purge_at AS due FROM versions WHERE state = ? AND purge_at <= ?
) d
JOIN versions v ON v.secret_id = d.secret_id AND v.revision = d.revision
JOIN secrets s ON s.id = v.secret_id
ORDER BY d.due, d.secret_id, d.revision
LIMIT ?`,
		string(coffer.VersionEnabled), putTime(now),
		string(coffer.VersionScheduledForDeletion), putTime(now),
		int64(limit))
	if err != nil {
		return nil, t.errorf("due versions: %w", t.classify(err))
	}
	vs, err := collect(rows, scanVersion)
	if err != nil {
		return nil, t.errorf("due versions: %w", t.classify(err))
	}
	return vs, nil
}

// DueSecrets returns up to limit secrets scheduled for deletion whose
// PurgeAt is not after now, oldest due first.
func (t *Tx) DueSecrets(ctx context.Context, now time.Time, limit int) ([]*coffer.Secret, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := t.query(ctx, `SELECT `+secretColumns+` FROM secrets s
WHERE s.state = ? AND s.purge_at <= ?
ORDER BY s.purge_at, s.id
LIMIT ?`, string(coffer.SecretDeletionScheduled), putTime(now), int64(limit))
	if err != nil {
		return nil, t.errorf("due secrets: %w", t.classify(err))
	}
	ss, err := collect(rows, scanSecret)
	if err != nil {
		return nil, t.errorf("due secrets: %w", t.classify(err))
	}
	return ss, nil
}
