package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
)

// stmts holds the prepared statements of one pool, by query text.
//
// SQLite parses and plans a statement in more time than it takes to run the
// point lookups most transactions are made of, and the driver keeps no
// statement cache. So the queries that requests run all the time
// (sqlstore's HotReads, and HotWrites on the write pool) are prepared once,
// at Open, and database/sql then keeps each prepared on every connection
// that has run it. Other queries are prepared once per transaction that
// runs them (tx.local).
type stmts map[string]*sql.Stmt

// prepare prepares queries on db.
func prepare(ctx context.Context, db *sql.DB, queries ...[]string) (stmts, error) {
	s := stmts{}
	for _, qs := range queries {
		for _, q := range qs {
			st, err := db.PrepareContext(ctx, q)
			if err != nil {
				s.close()
				return nil, fmt.Errorf("prepare %q: %w", q, err)
			}
			s[q] = st
		}
	}
	return s, nil
}

// close closes the statements.
func (s stmts) close() error {
	var errs []error
	for _, st := range s {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// stmtContext returns the context to run a statement of the transaction
// with, or the error of ctx if it has ended.
//
// The driver interrupts a statement whose context ends, and SQLite rolls
// back the whole transaction of an interrupted write. A batch's transaction
// holds the writes of other callers: there a statement runs to its end
// whatever its caller's ctx says, and ctx ends its caller's fn between
// statements (at the next one), never in the middle of one.
func (t *tx) stmtContext(ctx context.Context) (context.Context, error) {
	if !t.shared {
		return ctx, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// The methods below make tx the sqlstore.Querier of its transaction.

// stmt returns the statement of query in the transaction: its pool's
// prepared statement if it has one, else one prepared on the
// transaction's connection at its first run.
func (t *tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return t.tx.StmtContext(ctx, st), nil
	}
	if st, ok := t.local[query]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if t.local == nil {
		t.local = map[string]*sql.Stmt{}
	}
	t.local[query] = st
	return st, nil
}

// QueryRow runs a query that returns at most one row.
func (t *tx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	ctx, err := t.stmtContext(ctx)
	if err != nil {
		return errRow{err}
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// Query runs a query.
func (t *tx) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	ctx, err := t.stmtContext(ctx)
	if err != nil {
		return nil, err
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

// Exec runs a statement and returns the number of rows it changed.
func (t *tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, err := t.stmtContext(ctx)
	if err != nil {
		return 0, err
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// errRow is the Row of a query that could not run.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// sqlRows is *sql.Rows as sqlstore.Rows: its Close reports nothing, since
// Err reports what reading the rows met.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }
