package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmts holds the prepared statements of one pool, by query text.
//
// SQLite parses and plans a statement in more time than it takes to run the
// point lookups most transactions are made of, and the driver keeps no
// statement cache. So the queries that requests run all the time are
// prepared once, at Open, and database/sql then keeps each prepared on every
// connection that has run it. Other queries are prepared at each call.
type stmts map[string]*sql.Stmt

// readQueries are the prepared queries of both pools.
func readQueries() []string {
	return []string{
		getMetaSQL,
		getProjectSQL,
		getPrincipalSQL,
		getAPIKeySQL,
		getAPIKeyBySecretHashSQL,
		getKeySQL,
		getDefaultKeySQL,
		getKeyVersionSQL,
		latestKeyVersionSQL,
		getSecretSQL,
		getSecretByPathSQL,
		getVersionSQL,
	}
}

// writeQueries are the prepared queries of the write pool only.
func writeQueries() []string {
	return []string{
		putMetaSQL,
		createSecretSQL,
		updateSecretSQL,
		deleteSecretTagsSQL,
		createVersionSQL,
		updateVersionSQL,
		appendAuditBlockSQL,
	}
}

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

// queryRow runs a query that returns at most one row, through its prepared
// statement if it has one.
func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := t.stmts[query]; ok {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// query runs a query, through its prepared statement if it has one.
func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.stmts[query]; ok {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// exec runs a statement, through its prepared statement if it has one.
func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.stmts[query]; ok {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}
