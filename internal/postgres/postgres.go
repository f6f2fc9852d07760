// Package postgres is coffer's shared store: the storage.Store on a
// PostgreSQL database, through pgx, so that several coffer nodes can serve
// one set of secrets as one service.
//
// The schema mirrors the SQLite store's column for column (times as bigint
// microseconds, JSON as text, byte-order collation), so that both backends
// keep one shape and pass one conformance suite (storagetest).
//
// Concurrency comes from the database, not from the process: Update runs at
// READ COMMITTED, and the reads the storage contract says lock do lock: a
// secret read inside Update is SELECT ... FOR UPDATE, so writers of one
// secret queue on its row whichever node they run on, and each sees the
// revision the last one committed; a meta value read inside Update takes a
// transaction-scoped advisory lock on its name first, so that first-start
// work (bootstrap, the root key check) happens exactly once when several
// nodes start together on an empty database. View runs at REPEATABLE READ,
// READ ONLY: one consistent snapshot, as a SQLite read transaction gives,
// and never a serialization failure. Driver errors are classified by
// SQLSTATE, never by message.
//
// The record-level code (queries, scanning, encoding) is sqlstore's, shared
// with the SQLite store; this package keeps what is PostgreSQL's own: the
// pool, isolation levels and locks, migrations under an advisory lock,
// leases on the database's clock, LISTEN/NOTIFY and the batched
// TouchVersions.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
)

var (
	_ storage.Store  = (*DB)(nil)
	_ storage.Leases = (*DB)(nil)
)

// Options configures Open.
type Options struct {
	// NoMigrate leaves the schema alone: Open then fails unless the
	// database is at this program's schema version. Use it when migrations
	// are run apart (coffer migrate) by a role the nodes do not have.
	NoMigrate bool
	// MaxConns caps the connection pool; 0 keeps the DSN's pool_max_conns,
	// else pgx's default, the greater of 4 and the number of CPUs.
	MaxConns int32
	// Logger receives the store's warnings; none when nil.
	Logger *slog.Logger
}

// DB is a coffer store in a PostgreSQL database (in the schema the
// connection's search_path names first).
type DB struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	records *sqlstore.Store
}

// rollbackTimeout bounds a commit, and the rollback of a failed
// transaction: both may run after the caller's context ended.
const rollbackTimeout = 5 * time.Second

// Open connects to the database dsn names, a postgres:// or postgresql://
// URL or a key=value string, and, unless opts.NoMigrate, applies the
// migrations it lacks. Pool settings (pool_max_conns...) and TLS settings
// (sslmode, sslrootcert...) are read from the DSN.
func Open(ctx context.Context, dsn string, opts Options) (_ *DB, err error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx leaves the password out of its parse errors.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	defer func() {
		if err != nil {
			err = fmt.Errorf("postgres: open %s: %w", where, err)
		}
	}()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db := &DB{pool: pool, log: opts.Logger, records: sqlstore.New(dialect())}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if opts.NoMigrate {
		err = db.checkVersion(ctx)
	} else {
		err = db.migrate(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes every connection of the pool, waiting for those in use.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction on one snapshot of the database.
func (db *DB) View(ctx context.Context, fn func(storage.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, false, fn)
}

// Update runs fn in a read-write transaction at READ COMMITTED and commits
// it if fn returns nil. It rolls back when fn fails or panics. It does not
// retry: a serialization failure or deadlock is ErrConflict.
func (db *DB) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, true, fn)
}

var _ storage.Relaxed = (*DB)(nil)

// UpdateRelaxed is Update committed with synchronous_commit off: the
// commit returns once the server has the transaction in its WAL buffers,
// not once they are flushed. A crash of coffer loses nothing; a crash of
// the database server loses what its WAL writer had not flushed yet
// (wal_writer_delay, 200 ms by default, three times that at worst), unless
// a Flush came first.
func (db *DB) UpdateRelaxed(ctx context.Context, fn func(storage.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, true, func(x storage.Tx) error {
		if _, err := x.(*tx).tx.Exec(ctx, "SET LOCAL synchronous_commit TO off"); err != nil {
			return fmt.Errorf("postgres: relax: %w", classify(err))
		}
		return fn(x)
	})
}

// Flush makes every committed transaction durable: a transaction that takes
// a transaction id commits with a WAL record that the server flushes, with
// every record before it, before it answers.
func (db *DB) Flush(ctx context.Context) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, true, func(x storage.Tx) error {
		if _, err := x.(*tx).tx.Exec(ctx, "SET LOCAL synchronous_commit TO on"); err != nil {
			return fmt.Errorf("postgres: flush: %w", classify(err))
		}
		if _, err := x.(*tx).tx.Exec(ctx, "SELECT txid_current()"); err != nil {
			return fmt.Errorf("postgres: flush: %w", classify(err))
		}
		return nil
	})
}

// run runs fn in a transaction with opts.
func (db *DB) run(ctx context.Context, opts pgx.TxOptions, write bool, fn func(storage.Tx) error) error {
	t, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", classify(err))
	}
	done := false
	defer func() {
		if !done {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			_ = t.Rollback(rctx)
		}
	}()
	x := &tx{tx: t, write: write}
	x.Tx = db.records.Tx(x, write)
	if err := fn(x); err != nil {
		return err
	}
	if err := x.publishWritten(ctx); err != nil {
		return err
	}
	done = true
	// Once the work is done, its commit is not the caller's to cancel: a
	// commit cut short by a client that left is a change whose outcome
	// nobody knows, although it may have happened.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if err := t.Commit(cctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", classify(err))
	}
	return nil
}

// tx implements storage.Tx over one pgx transaction: the records of
// sqlstore, and what PostgreSQL does its own way.
type tx struct {
	sqlstore.Tx
	tx pgx.Tx
	// write is set in Update: reads that the contract says lock, lock.
	write bool
	// written are the secrets whose rows or versions this transaction
	// wrote, which it publishes as storage.ChangeSecret (notify.go).
	written map[string]struct{}
}

var (
	_ storage.Tx      = (*tx)(nil)
	_ storage.LeaseTx = (*tx)(nil)
)

// The methods below make tx the sqlstore.Querier of its transaction. pgx
// prepares and caches each query text on each connection by itself.

// Exec runs a statement and returns the number of rows it changed.
func (t *tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

// Query runs a query.
func (t *tx) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return t.tx.Query(ctx, query, args...)
}

// QueryRow runs a query that returns at most one row.
func (t *tx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return t.tx.QueryRow(ctx, query, args...)
}

// dialect is how PostgreSQL and pgx differ from SQLite: numbered
// placeholders, slices bound as arrays, and a row lock on the secrets that
// Update reads, since transactions of several nodes run at once.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:     "postgres",
		Numbered: true,
		Arrays:   true,
		LockRow:  " FOR UPDATE",
		Kind:     errorKind,
	}
}

// SQLSTATE codes the store classifies.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeDiskFull             = "53100"
)

// classify maps a driver error to the storage error it means, keeping the
// driver error in the chain (sqlstore.Dialect.Classify): pgx.ErrNoRows to
// storage.ErrNotFound; uniqueness and foreign-key violations, serialization
// failures and deadlocks to storage.ErrConflict. It returns other errors
// unchanged.
func classify(err error) error { return dialect().Classify(err) }

// errorKind classifies a driver error by its SQLSTATE.
func errorKind(err error) sqlstore.ErrorKind {
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.NoRows
	}
	switch sqlState(err) {
	case codeUniqueViolation, codeSerializationFailure, codeDeadlockDetected:
		return sqlstore.Conflict
	case codeForeignKeyViolation:
		return sqlstore.ForeignKey
	case codeDiskFull:
		return sqlstore.Full
	}
	return sqlstore.Fault
}

// sqlState returns the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
