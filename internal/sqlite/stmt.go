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
// that has run it. Other queries are prepared at each call.
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

// QueryRow runs a query that returns at most one row, through its prepared
// statement if it has one.
func (t *tx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	ctx, err := t.stmtContext(ctx)
	if err != nil {
		return errRow{err}
	}
	if st, ok := t.stmts[query]; ok {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// Query runs a query, through its prepared statement if it has one.
func (t *tx) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	ctx, err := t.stmtContext(ctx)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if st, ok := t.stmts[query]; ok {
		rows, err = t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = t.tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

// Exec runs a statement, through its prepared statement if it has one, and
// returns the number of rows it changed.
func (t *tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, err := t.stmtContext(ctx)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	if st, ok := t.stmts[query]; ok {
		res, err = t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		res, err = t.tx.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// errRow is the row of a query that did not run.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// sqlRows is *sql.Rows as sqlstore.Rows: its Close reports nothing, since
// Err reports what reading the rows met.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }
