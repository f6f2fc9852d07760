package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
)

var (
	_ storage.Dumper = (*DB)(nil)
	_ storage.Loader = (*DB)(nil)
)

// Backend names SQLite in a dump's header.
const Backend = "sqlite"

// Dump writes every row of the store to sink from one read transaction of
// the read pool. In WAL mode it reads one snapshot, taken at its first
// read, while the writer goes on committing: the WAL grows meanwhile, and
// is checkpointed once the dump ends.
func (db *DB) Dump(ctx context.Context, sink storage.DumpSink) error {
	t, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer t.Rollback()
	x := db.newTx(t, db.readStmts, false, false)
	var schema int
	if err := x.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&schema); err != nil {
		return fmt.Errorf("sqlite: dump: %w", err)
	}
	if err := sqlstore.Dump(ctx, x, catalog{}, sink, Backend, schema); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Load inserts a dump into the store, which must hold no row, in one
// transaction of its own (outside the group commit). Foreign keys are
// checked as rows go in: sqlstore.DumpTables is in their order.
func (db *DB) Load(ctx context.Context, src storage.DumpSource) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer t.Rollback()
	x := db.newTx(t, db.writeStmts, true, false)
	if err := db.records.Load(ctx, x, catalog{}, src, len(ms)); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// catalog reads SQLite's schema.
type catalog struct{}

func (catalog) Tables(ctx context.Context, q sqlstore.Querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

func (catalog) Columns(ctx context.Context, q sqlstore.Querier, table string) ([]sqlstore.Column, error) {
	rows, err := q.Query(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	names, err := scanStrings(rows)
	if err != nil {
		return nil, err
	}
	cols := make([]sqlstore.Column, len(names))
	for i, n := range names {
		cols[i] = sqlstore.Column{Name: n} // booleans are integers here
	}
	return cols, nil
}

func scanStrings(rows sqlstore.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
