// Package sqlite is coffer's default store: one SQLite file on local disk,
// through the pure-Go driver modernc.org/sqlite, so that the single coffer
// binary needs no C toolchain and no database server.
//
// SQLite allows one writer at a time. The store makes that explicit rather
// than discovering it through lock errors: every Update runs on one dedicated
// connection and begins with BEGIN IMMEDIATE, so write transactions queue in
// the process and take the database's write lock up front. That lock is what
// makes GetSecret inside Update a row lock, as the storage contract requires:
// while one transaction holds it, no other can write any row. Views run on a
// separate pool of read-only connections and, in WAL mode, never wait for the
// writer.
//
// Since durable commits, an fsync each, are what a single writer spends its
// time on, concurrent Updates share them: they queue, and one goroutine
// runs them one after another, each in a savepoint, in one transaction
// with one commit (group commit, batch.go). Rules do not change: each fn
// runs alone and sees what those before it wrote, a failed fn leaves
// nothing, and Update returns once its writes are durable.
//
// Commits are durable (synchronous=FULL) and foreign keys are enforced. Times
// are stored as microseconds since the Unix epoch in UTC, structured values as
// JSON text; the schema avoids what PostgreSQL could not mirror, so that both
// backends keep one shape, share their record-level code (sqlstore) and pass
// one conformance suite (storagetest). This package keeps what is SQLite's
// own: the file, the two pools, the prepared statements, the single writer,
// migrations, leases on the process clock and TouchVersions.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ storage.Store = (*DB)(nil)

// busyTimeoutMillis is how long a statement waits for a lock another process
// holds before it fails with SQLITE_BUSY.
const busyTimeoutMillis = 5000

// DB is a coffer store in one SQLite file.
type DB struct {
	write      *sql.DB // one connection: write transactions are serialized
	read       *sql.DB // read-only connections for View
	writeStmts stmts
	readStmts  stmts
	records    *sqlstore.Store
	path       string     // absolute path of the database file
	batch      *committer // nil when Options.Unbatched

	updates, commits atomic.Uint64 // Stats
}

// Open opens the store at path, creating the file (mode 0600) and its
// directory (mode 0700) if they do not exist, and applies the migrations
// the file lacks. It is OpenOptions with the default Options.
func Open(path string) (*DB, error) { return OpenOptions(path, Options{}) }

// OpenOptions is Open with options. The DB's committer, which runs the
// batches of Update, runs until Close.
func OpenOptions(path string, o Options) (_ *DB, err error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: want the path of a file", path)
	}
	db := &DB{records: sqlstore.New(dialect())}
	defer func() {
		if err != nil {
			db.release()
			err = fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := createFile(abs); err != nil {
		return nil, err
	}
	db.path = abs

	ctx := context.Background()
	// The writer opens first: it puts the file in WAL mode and migrates it
	// before any reader looks at it.
	if db.write, err = openPool(ctx, abs, true); err != nil {
		return nil, err
	}
	if err := migrate(ctx, db.write); err != nil {
		return nil, err
	}
	if db.read, err = openPool(ctx, abs, false); err != nil {
		return nil, err
	}
	batchSQL := []string{savepointSQL, releaseSQL, rollbackToSQL}
	if db.writeStmts, err = prepare(ctx, db.write, db.records.HotReads(), db.records.HotWrites(), batchSQL); err != nil {
		return nil, err
	}
	if db.readStmts, err = prepare(ctx, db.read, db.records.HotReads()); err != nil {
		return nil, err
	}
	if !o.Unbatched {
		db.startCommitter(o)
	}
	return db, nil
}

// createFile creates the database file with owner-only permissions before
// the driver would create it with the process umask. SQLite gives the WAL and
// shared-memory files the permissions of the database file.
func createFile(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	} else if err != nil {
		return err
	}
	return f.Close()
}

// writeParams are the connection parameters of the write connection.
func writeParams() url.Values {
	return url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis),
			"journal_mode(WAL)",
			"synchronous(FULL)",
			"foreign_keys(1)",
		},
		"_txlock": {"immediate"},
	}
}

// readParams are the connection parameters of the read connections.
func readParams() url.Values {
	return url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis),
			"foreign_keys(1)",
			"query_only(1)",
		},
	}
}

// openPool opens the write pool, of one connection, or the read pool to the
// file at the absolute path, and checks that the connection parameters took
// effect.
func openPool(ctx context.Context, path string, writer bool) (*sql.DB, error) {
	n, params := min(max(runtime.GOMAXPROCS(0), 2), 8), readParams()
	if writer {
		n, params = 1, writeParams()
	}

	// A URI keeps characters such as '?' and '#' in the path from being read
	// as the start of the parameters.
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows volume
	}
	dsn := (&url.URL{Scheme: "file", Path: p, RawQuery: params.Encode()}).String()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := checkPragmas(ctx, db, writer); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// checkPragmas fails unless a connection of db has the settings the store
// relies on: a file that cannot use WAL, for one, must not open silently in
// another journal mode.
func checkPragmas(ctx context.Context, db *sql.DB, writer bool) error {
	want := map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": fmt.Sprint(busyTimeoutMillis),
	}
	if writer {
		want["synchronous"] = "2" // FULL
		want["query_only"] = "0"
	} else {
		want["query_only"] = "1"
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for name, v := range want {
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
			return fmt.Errorf("read pragma %s: %w", name, err)
		}
		if !strings.EqualFold(got, v) {
			return fmt.Errorf("pragma %s is %q, want %q", name, got, v)
		}
	}
	return nil
}

// Close runs the Updates already queued, stops the committer and closes
// both connection pools. An Update that Close overtakes fails.
func (db *DB) Close() error {
	if db.batch != nil {
		db.batch.close()
	}
	// Let SQLite refresh the statistics its query planner uses, as it
	// advises long-lived connections to do before they close. It only
	// tunes performance, so a failure, or a writer busy past the
	// deadline, does not fail Close.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = db.write.ExecContext(ctx, "PRAGMA optimize")
	return db.release()
}

// release closes the statements and pools that are open.
func (db *DB) release() error {
	errs := []error{db.readStmts.close(), db.writeStmts.close()}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction on the read pool.
func (db *DB) View(ctx context.Context, fn func(storage.Tx) error) error {
	t, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", classify(err))
	}
	defer t.Rollback()
	return fn(db.newTx(t, db.readStmts, false, false))
}

// Update runs fn in a write transaction on the write connection and commits
// it if fn returns nil. It rolls back fn's writes when fn fails or panics.
// Concurrent Updates share transactions and commits (batch.go): each fn
// runs alone in a savepoint of the shared transaction, after the fns
// queued before it.
func (db *DB) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if db.batch != nil {
		return db.batch.update(ctx, fn)
	}
	return db.updateAlone(ctx, fn)
}

// updateAlone is Update in a transaction of its own (Options.Unbatched).
func (db *DB) updateAlone(ctx context.Context, fn func(storage.Tx) error) error {
	// BEGIN IMMEDIATE (the _txlock parameter) takes the write lock now, so a
	// transaction never fails later for want of it.
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", classify(err))
	}
	committed := false
	defer func() {
		if !committed {
			t.Rollback()
		}
	}()
	db.updates.Add(1)
	if err := fn(db.newTx(t, db.writeStmts, true, false)); err != nil {
		return err
	}
	committed = true
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", classify(err))
	}
	db.commits.Add(1)
	return nil
}

var _ storage.Relaxed = (*DB)(nil)

// UpdateRelaxed is Update whose commit does not wait for the disk: the
// write connection commits it with synchronous=NORMAL, which in WAL mode
// writes the transaction to the WAL file (the operating system holds it;
// a crash of the process loses nothing) without an fsync, then goes back
// to FULL. The next Flush, or the next FULL commit, which syncs the whole
// WAL, makes it durable.
func (db *DB) UpdateRelaxed(ctx context.Context, fn func(storage.Tx) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", classify(err))
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return fmt.Errorf("sqlite: relax: %w", classify(err))
	}
	defer func() {
		// Back to FULL whatever ctx says: a connection left relaxed would
		// commit changes that a power loss could undo. If that fails, the
		// connection is dropped rather than reused.
		if _, err := conn.ExecContext(context.Background(), "PRAGMA synchronous=FULL"); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	t, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", classify(err))
	}
	committed := false
	defer func() {
		if !committed {
			t.Rollback()
		}
	}()
	if err := fn(db.newTx(t, db.writeStmts, true, false)); err != nil {
		return err
	}
	committed = true
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", classify(err))
	}
	return nil
}

// Flush makes every committed transaction durable: it syncs the WAL file,
// which holds them (a checkpoint syncs the WAL before it copies it into the
// database, so what it moved out is durable already).
func (db *DB) Flush(context.Context) error {
	f, err := os.OpenFile(db.path+"-wal", os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no WAL: nothing is waiting in one
	} else if err != nil {
		return fmt.Errorf("sqlite: flush: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: flush: %w", err)
	}
	return nil
}

// tx implements storage.Tx over one database/sql transaction: the records
// of sqlstore, run through the transaction's prepared statements, and what
// SQLite does its own way.
type tx struct {
	sqlstore.Tx
	tx    *sql.Tx
	stmts stmts // the prepared statements of the transaction's pool
	// local holds the other statements the transaction ran, prepared on
	// its connection, so that one it runs again (a skip scan's step, a
	// count per sub-folder) is parsed once. The transaction's end closes
	// them.
	local  map[string]*sql.Stmt
	shared bool // a batch's transaction: see stmtContext
}

var _ storage.Tx = (*tx)(nil)

// newTx returns the storage.Tx of t; shared for a batch's transaction.
func (db *DB) newTx(t *sql.Tx, s stmts, write, shared bool) *tx {
	x := &tx{tx: t, stmts: s, shared: shared}
	x.Tx = db.records.Tx(x, write)
	return x
}

// dialect is how SQLite and its driver differ from PostgreSQL. Update
// holds the database's only write lock from its start: reads need no row
// lock.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{Name: "sqlite", Kind: errorKind}
}

// classify maps a driver error to the storage error it means, keeping the
// driver error in the chain (sqlstore.Dialect.Classify).
func classify(err error) error { return dialect().Classify(err) }

// errorKind classifies a driver error by its extended result code:
// sql.ErrNoRows; uniqueness and primary-key violations and a lock wait given
// up (SQLITE_BUSY, whatever the extended code) are conflicts; foreign-key
// violations apart; SQLITE_FULL is a full disk.
func errorKind(err error) sqlstore.ErrorKind {
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.NoRows
	}
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.Fault
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.Conflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ForeignKey
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY:
		return sqlstore.Conflict
	case sqlite3.SQLITE_FULL:
		return sqlstore.Full
	}
	return sqlstore.Fault
}
