package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

var (
	_ storage.Leases  = (*DB)(nil)
	_ storage.LeaseTx = (*tx)(nil)
)

// acquireLeaseSQL takes or extends a lease in one statement (?1 name, ?2
// holder, ?3 now, ?4 ttl, in microseconds): the row is created, or, if its
// term has expired or belongs to the caller, updated. A new term (another
// holder, or the same after expiry) gets the next token; a running term of
// another holder returns no row. It mirrors the PostgreSQL store's.
const acquireLeaseSQL = `INSERT INTO leases AS l (name, holder, token, expires_at)
VALUES (?1, ?2, 1, ?3 + ?4)
ON CONFLICT (name) DO UPDATE SET
	token = CASE WHEN l.holder = excluded.holder AND l.expires_at > ?3
		THEN l.token ELSE l.token + 1 END,
	holder = excluded.holder,
	expires_at = excluded.expires_at
WHERE l.holder = excluded.holder OR l.expires_at <= ?3
RETURNING token`

// AcquireLease takes lease name for holder until ttl from now, or extends
// holder's term. SQLite has no clock of its own: the time is this process's,
// which is every user's of a local file.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (token int64, ok bool, err error) {
	if ttl <= 0 {
		return 0, false, fmt.Errorf("sqlite: acquire lease %q: ttl %v is not positive", name, ttl)
	}
	err = db.Update(ctx, func(stx storage.Tx) error {
		err := stx.(*tx).QueryRow(ctx, acquireLeaseSQL,
			name, holder, time.Now().UnixMicro(), ttl.Microseconds()).Scan(&token)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return classify(err)
		}
		ok = true
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: acquire lease %q: %w", name, err)
	}
	return token, ok, nil
}

// ReleaseLease ends holder's term with token, if it still runs, by moving
// its expiry to now; the next term gets the next token.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string, token int64) error {
	err := db.Update(ctx, func(stx storage.Tx) error {
		now := time.Now().UnixMicro()
		_, err := stx.(*tx).Exec(ctx, `UPDATE leases SET expires_at = ?
WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?`, now, name, holder, token, now)
		return classify(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: release lease %q: %w", name, err)
	}
	return nil
}

// CheckLease returns ErrLeaseLost unless the term of lease name with token
// runs. Inside Update the write lock, held until the transaction ends, keeps
// any AcquireLease from starting the next term before it does.
func (t *tx) CheckLease(ctx context.Context, name string, token int64) error {
	var one int
	err := t.QueryRow(ctx, `SELECT 1 FROM leases WHERE name = ? AND token = ? AND expires_at > ?`,
		name, token, time.Now().UnixMicro()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: lease %q, token %d: %w", name, token, storage.ErrLeaseLost)
	} else if err != nil {
		return fmt.Errorf("sqlite: check lease %q: %w", name, classify(err))
	}
	return nil
}
