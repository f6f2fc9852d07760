package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/storage"
)

// nowMicros is the database's time in microseconds since the Unix epoch, at
// the start of the statement. Leases are measured on the database's clock,
// which every node shares, so the nodes' clocks need not agree.
const nowMicros = `(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000)::bigint`

// acquireLeaseSQL takes or extends a lease in one statement: the row is
// created, or, if its term has expired or belongs to the caller, updated
// under the row lock ON CONFLICT takes. A new term (another holder, or the
// same after expiry) gets the next token; a running term of another holder
// returns no row.
const acquireLeaseSQL = `INSERT INTO leases AS l (name, holder, token, expires_at)
VALUES ($1, $2, 1, ` + nowMicros + ` + $3)
ON CONFLICT (name) DO UPDATE SET
	token = CASE WHEN l.holder = excluded.holder AND l.expires_at > ` + nowMicros + `
		THEN l.token ELSE l.token + 1 END,
	holder = excluded.holder,
	expires_at = excluded.expires_at
WHERE l.holder = excluded.holder OR l.expires_at <= ` + nowMicros + `
RETURNING token`

// AcquireLease takes lease name for holder until ttl from now, on the
// database's clock, or extends holder's term.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (int64, bool, error) {
	if ttl <= 0 {
		return 0, false, fmt.Errorf("postgres: acquire lease %q: ttl %v is not positive", name, ttl)
	}
	var token int64
	err := db.pool.QueryRow(ctx, acquireLeaseSQL, name, holder, ttl.Microseconds()).Scan(&token)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("postgres: acquire lease %q: %w", name, classify(err))
	}
	return token, true, nil
}

// ReleaseLease ends holder's term with token, if it still runs, by moving
// its expiry to the past; the next term gets the next token.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string, token int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE leases SET expires_at = `+nowMicros+`
WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > `+nowMicros,
		name, holder, token)
	if err != nil {
		return fmt.Errorf("postgres: release lease %q: %w", name, classify(err))
	}
	return nil
}

// CheckLease returns ErrLeaseLost unless the term of lease name with token
// runs. Inside Update the lease row stays share-locked until the transaction
// ends, so that no AcquireLease can start the next term before it does.
func (t *tx) CheckLease(ctx context.Context, name string, token int64) error {
	lock := ""
	if t.write {
		lock = " FOR SHARE"
	}
	var one int
	err := t.tx.QueryRow(ctx, `SELECT 1 FROM leases
WHERE name = $1 AND token = $2 AND expires_at > `+nowMicros+lock, name, token).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: lease %q, token %d: %w", name, token, storage.ErrLeaseLost)
	} else if err != nil {
		return fmt.Errorf("postgres: check lease %q: %w", name, classify(err))
	}
	return nil
}
