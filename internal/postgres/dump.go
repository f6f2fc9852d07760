package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
	"github.com/jackc/pgx/v5"
)

var (
	_ storage.Dumper = (*DB)(nil)
	_ storage.Loader = (*DB)(nil)
)

// Backend names PostgreSQL in a dump's header.
const Backend = "postgres"

// Dump writes every row of the store to sink from one REPEATABLE READ,
// read-only transaction: one snapshot of the database, while every node
// goes on writing.
func (db *DB) Dump(ctx context.Context, sink storage.DumpSink) error {
	err := db.View(ctx, func(x storage.Tx) error {
		t := x.(*tx)
		schema, err := schemaVersion(ctx, t.tx)
		if err != nil {
			return err
		}
		return sqlstore.Dump(ctx, t, catalog{}, sink, Backend, schema)
	})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Load inserts a dump into the database, whose tables must hold no row, in
// one transaction. It locks the tables it checks first, so that two loads,
// or a node starting on the database, cannot both find it empty.
func (db *DB) Load(ctx context.Context, src storage.DumpSource) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	err = db.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, true, func(x storage.Tx) error {
		t := x.(*tx)
		if _, err := t.tx.Exec(ctx, "LOCK TABLE meta, organizations IN EXCLUSIVE MODE"); err != nil {
			return err
		}
		return db.records.Load(ctx, t, catalog{}, src, len(ms))
	})
	if err != nil && !errors.Is(err, storage.ErrNotEmpty) {
		return fmt.Errorf("postgres: %w", classify(err))
	}
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// catalog reads the schema of the connection's current schema.
type catalog struct{}

func (catalog) Tables(ctx context.Context, q sqlstore.Querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		return nil, err
	}
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

func (catalog) Columns(ctx context.Context, q sqlstore.Querier, table string) ([]sqlstore.Column, error) {
	rows, err := q.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sqlstore.Column
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		out = append(out, sqlstore.Column{Name: name, Bool: typ == "boolean"})
	}
	return out, rows.Err()
}
