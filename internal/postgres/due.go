package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// DueVersions returns up to limit versions that the scheduler must act on at
// time now: enabled versions whose ephemeral ExpiresAt is not after now, and
// versions scheduled for deletion whose PurgeAt is not after now. Without
// data, oldest due first; ties in (secret, revision) order. Each half of the
// union reads its own partial index.
func (t *tx) DueVersions(ctx context.Context, now time.Time, limit int) ([]*storage.Version, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := t.tx.Query(ctx, `SELECT `+versionColumns+` FROM (
	SELECT secret_id, revision, expires_at AS due FROM versions WHERE state = $1 AND expires_at <= $2
	UNION ALL
	SELECT secret_id, revision, purge_at AS due FROM versions WHERE state = $3 AND purge_at <= $2
) d
JOIN versions v ON v.secret_id = d.secret_id AND v.revision = d.revision
JOIN secrets s ON s.id = v.secret_id
ORDER BY d.due, d.secret_id, d.revision
LIMIT $4`,
		string(coffer.VersionEnabled), putTime(now),
		string(coffer.VersionScheduledForDeletion), int64(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: due versions: %w", classify(err))
	}
	vs, err := collect(rows, scanVersion)
	if err != nil {
		return nil, fmt.Errorf("postgres: due versions: %w", classify(err))
	}
	return vs, nil
}

// DueSecrets returns up to limit secrets scheduled for deletion whose
// PurgeAt is not after now, oldest due first.
func (t *tx) DueSecrets(ctx context.Context, now time.Time, limit int) ([]*coffer.Secret, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := t.tx.Query(ctx, `SELECT `+secretColumns+` FROM secrets s
WHERE s.state = $1 AND s.purge_at <= $2
ORDER BY s.purge_at, s.id
LIMIT $3`, string(coffer.SecretDeletionScheduled), putTime(now), int64(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: due secrets: %w", classify(err))
	}
	ss, err := collect(rows, scanSecret)
	if err != nil {
		return nil, fmt.Errorf("postgres: due secrets: %w", classify(err))
	}
	return ss, nil
}
