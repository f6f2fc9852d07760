package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.AccessTx = (*tx)(nil)

const (
	// lockTouchedSecretsSQL takes, in id order so that two batches never
	// wait on each other in a cycle, the row locks GetSecret takes in
	// Update: a writer of one of these secrets either committed before
	// (the batch then updates the row it wrote) or waits and then reads
	// the batch's times.
	lockTouchedSecretsSQL = `SELECT id FROM secrets WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`
	// touchVersionsSQL moves accessed_at forward, never back, for a whole
	// batch in one statement; GROUP BY keeps the newest time of a version
	// named twice, which UPDATE ... FROM would otherwise pick at random.
	touchVersionsSQL = `UPDATE versions v SET accessed_at = u.at
FROM (SELECT secret_id, revision, max(at) AS at
      FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS a(secret_id, revision, at)
      GROUP BY secret_id, revision) u
WHERE v.secret_id = u.secret_id AND v.revision = u.revision
  AND (v.accessed_at IS NULL OR v.accessed_at < u.at)`
)

// TouchVersions sets accessed_at where it is NULL or older, in one
// statement, after locking the versions' secrets.
func (t *tx) TouchVersions(ctx context.Context, accesses []storage.VersionAccess) error {
	if len(accesses) == 0 {
		return nil
	}
	ids := make([]string, len(accesses))
	revs := make([]int64, len(accesses))
	ats := make([]int64, len(accesses))
	for i, a := range accesses {
		ids[i], revs[i], ats[i] = a.SecretID, int64(a.Revision), a.At.UnixMicro()
	}
	secrets := slices.Clone(ids)
	slices.Sort(secrets)
	secrets = slices.Compact(secrets)
	for _, id := range secrets {
		t.note(id)
	}
	if t.write {
		if _, err := t.tx.Exec(ctx, lockTouchedSecretsSQL, secrets); err != nil {
			return fmt.Errorf("postgres: touch versions: lock secrets: %w", classify(err))
		}
	}
	if _, err := t.tx.Exec(ctx, touchVersionsSQL, ids, revs, ats); err != nil {
		return fmt.Errorf("postgres: touch versions: %w", classify(err))
	}
	return nil
}
