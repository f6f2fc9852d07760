package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
)

// migrationFS holds the schema migrations, named NNNN_description.sql and
// applied in the order of their numbers. A migration, once released, is never
// edited: a change is a new file, here and in the SQLite store alike.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations returns the embedded migrations in order.
func migrations() ([]sqlstore.Migration, error) { return sqlstore.Migrations(migrationFS) }

// migrateLockSQL serializes migrators of one schema: nodes that start
// together on an empty database take turns, and the later ones find the work
// done. PostgreSQL's DDL is transactional, so a migration and its record
// commit together or not at all.
const migrateLockSQL = `SELECT pg_advisory_xact_lock(hashtext('coffer.migrate'), hashtext(COALESCE(current_schema(), '')))`

const createMigrationsSQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer NOT NULL PRIMARY KEY,
	name       text NOT NULL,
	applied_at bigint NOT NULL
)`

// Migrate applies the migrations the database lacks, each in its own
// transaction, and records them in schema_migrations. It refuses a database
// that a newer coffer has migrated further than it knows. Open migrates
// unless told not to; Migrate is for a separate migration step.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.migrate(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for {
		done, err := db.applyNext(ctx, ms)
		if err != nil || done {
			return err
		}
	}
}

// applyNext applies the first migration the database lacks, if any, and
// reports whether there was none left.
func (db *DB) applyNext(ctx context.Context, ms []sqlstore.Migration) (done bool, err error) {
	err = pgx.BeginFunc(ctx, db.pool, func(t pgx.Tx) error {
		if _, err := t.Exec(ctx, migrateLockSQL); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, createMigrationsSQL); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		current, err := schemaVersion(ctx, t)
		if err != nil {
			return err
		}
		if current > len(ms) {
			return fmt.Errorf("database schema version %d is newer than this program's %d", current, len(ms))
		}
		if current == len(ms) {
			done = true
			return nil
		}
		m := ms[current]
		if _, err := t.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		_, err = t.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, time.Now().UnixMicro())
		return err
	})
	return done, err
}

// schemaVersion returns the highest migration applied.
func schemaVersion(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (int, error) {
	var v int
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// ErrSchemaVersion means the database is not at the schema version this
// program uses, and Open was told not to migrate it.
var ErrSchemaVersion = errors.New("postgres: the database schema is not at this program's version")

// checkVersion fails unless the database is at this program's schema
// version.
func (db *DB) checkVersion(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	current := 0
	if exists {
		if current, err = schemaVersion(ctx, db.pool); err != nil {
			return err
		}
	}
	switch {
	case current < len(ms):
		return fmt.Errorf("%w: it is at %d, this program needs %d: run coffer migrate", ErrSchemaVersion, current, len(ms))
	case current > len(ms):
		return fmt.Errorf("%w: it is at %d, newer than this program's %d", ErrSchemaVersion, current, len(ms))
	}
	return nil
}
