package sqlite

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.AccessTx = (*tx)(nil)

// touchVersionSQL moves one version's accessed_at forward, never back.
const touchVersionSQL = `UPDATE versions SET accessed_at = ?
WHERE secret_id = ? AND revision = ? AND (accessed_at IS NULL OR accessed_at < ?)`

// TouchVersions sets accessed_at where it is NULL or older, one statement
// per version. Update holds the database's only write lock, which is the
// lock GetSecret takes: no other writer runs meanwhile.
func (t *tx) TouchVersions(ctx context.Context, accesses []storage.VersionAccess) error {
	if len(accesses) == 0 {
		return nil
	}
	sctx, err := t.stmtContext(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: touch versions: %w", err)
	}
	st, err := t.tx.PrepareContext(sctx, touchVersionSQL)
	if err != nil {
		return fmt.Errorf("sqlite: touch versions: %w", classify(err))
	}
	defer st.Close()
	for _, a := range accesses {
		if _, err := t.stmtContext(ctx); err != nil {
			return fmt.Errorf("sqlite: touch versions: %w", err)
		}
		at := a.At.UnixMicro()
		if _, err := st.ExecContext(sctx, at, a.SecretID, int64(a.Revision), at); err != nil {
			return fmt.Errorf("sqlite: touch version %s/%d: %w", a.SecretID, a.Revision, classify(err))
		}
	}
	return nil
}
