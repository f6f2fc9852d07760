// Package sqlstore holds the record-level code of coffer's two SQL stores,
// internal/sqlite and internal/postgres, once: the queries, the scanning of
// rows into records and the encoding of records into columns. Both stores
// keep one schema shape (see the stores' migrations), so what a record looks
// like in SQL is written here, and a rule that changes changes in one place.
//
// What really differs stays in the backends: connections and pools, how a
// transaction begins and what it locks (SQLite's single writer, PostgreSQL's
// row and advisory locks), migrations, leases, LISTEN/NOTIFY, and the few
// statements whose SQL is not the same (TouchVersions). A backend runs the
// queries of this package through a Querier, its adapter of one driver
// transaction, and describes itself with a Dialect: its placeholders, its
// row-lock clause, whether its driver binds lists as arrays, and how its
// driver errors are classified, by code.
//
// Queries are written once, with ? placeholders. For a dialect that numbers
// them ($1, $2...), each query text is rewritten once and the result cached
// by the Store, so that the hot reads (GetSecret, GetVersion...) cost a map
// lookup, not a rewrite. Column values travel as database/sql types
// (sql.NullString, sql.NullInt64), which both drivers scan.
package sqlstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/coffer-dev/coffer/internal/storage"
)

// Querier runs statements inside one transaction of a backend's driver.
type Querier interface {
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	// Query runs a query that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query that returns at most one row; its error, and
	// the driver's no-rows error, come with Scan.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Row is one row of a result: *sql.Row, pgx.Row.
type Row interface {
	Scan(dest ...any) error
}

// Rows is the result of a query, read row by row: pgx.Rows, or *sql.Rows
// with a Close that returns nothing.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// ErrorKind is what a driver error means to the store.
type ErrorKind int

const (
	// Fault is any error that is not one of the others.
	Fault ErrorKind = iota
	// NoRows is the driver's error for a query that returned no row.
	NoRows
	// Conflict is a uniqueness violation, or a transaction that lost a
	// race against another (a lock wait given up, a serialization
	// failure, a deadlock).
	Conflict
	// ForeignKey is a foreign-key violation: a conflict, unless the
	// caller knows which record was missing.
	ForeignKey
	// Full is a write refused for want of space.
	Full
)

// Dialect is what a backend's SQL and driver differ in.
type Dialect struct {
	// Name prefixes the store's errors: "sqlite", "postgres".
	Name string
	// Numbered is set when placeholders are numbered ($1, $2...) rather
	// than written ?.
	Numbered bool
	// Arrays is set when the driver binds a Go slice as an SQL array: a
	// list then travels as one parameter (= ANY(?)), so that a query's
	// text does not vary with the length of the list.
	Arrays bool
	// LockRow is the clause that a read which locks its row inside Update
	// (GetSecret, GetSecretByPath) ends with, " FOR UPDATE"; empty where
	// the transaction holds a lock on the whole database already.
	LockRow string
	// Kind classifies a driver error by its code (SQLSTATE, SQLite
	// extended result code), never by its message.
	Kind func(error) ErrorKind
}

// Store holds what the transactions of one database share: the dialect
// and the query texts rewritten for it.
type Store struct {
	d Dialect

	mu    sync.RWMutex
	texts map[string]string // query written with ? -> query in the dialect
}

// New returns the record-level store of a backend that speaks d.
func New(d Dialect) *Store {
	return &Store{d: d, texts: map[string]string{}}
}

// Tx returns the records of one transaction that q runs; write is set in
// a read-write transaction, whose reads that the storage contract says
// lock, lock. A backend embeds it in its own transaction type, which adds
// what it does differently.
func (s *Store) Tx(q Querier, write bool) Tx {
	return Tx{s: s, q: q, write: write}
}

// Classify maps a driver error to the storage error it means, keeping the
// driver error in the chain: no rows to storage.ErrNotFound; uniqueness
// and foreign-key violations and lost races to storage.ErrConflict. It
// returns other errors unchanged.
func (d Dialect) Classify(err error) error {
	if err == nil {
		return nil
	}
	switch d.Kind(err) {
	case NoRows:
		return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	case Conflict, ForeignKey:
		return fmt.Errorf("%w: %w", storage.ErrConflict, err)
	case Full:
		return fmt.Errorf("%w: %w", storage.ErrFull, err)
	}
	return err
}

// Tx implements the methods of storage.Tx, and of the optional
// transaction interfaces, that both backends share.
type Tx struct {
	s     *Store
	q     Querier
	write bool
}

// classify is Dialect.Classify.
func (t *Tx) classify(err error) error { return t.s.d.Classify(err) }

// errorf returns an error of the store, prefixed with its name.
func (t *Tx) errorf(format string, args ...any) error {
	return fmt.Errorf(t.s.d.Name+": "+format, args...)
}

// exec runs a statement of fixed text.
func (t *Tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return t.q.Exec(ctx, t.s.text(query), args...)
}

// query runs a query of fixed text.
func (t *Tx) query(ctx context.Context, query string, args ...any) (Rows, error) {
	return t.q.Query(ctx, t.s.text(query), args...)
}

// queryRow runs a query of fixed text that returns at most one row.
func (t *Tx) queryRow(ctx context.Context, query string, args ...any) Row {
	return t.q.QueryRow(ctx, t.s.text(query), args...)
}

// queryBuilt runs a query built for one call, whose text is rewritten but
// not cached.
func (t *Tx) queryBuilt(ctx context.Context, query string, args ...any) (Rows, error) {
	return t.q.Query(ctx, t.s.rebind(query), args...)
}

// queryRowBuilt runs a query built for one call that returns at most one
// row.
func (t *Tx) queryRowBuilt(ctx context.Context, query string, args ...any) Row {
	return t.q.QueryRow(ctx, t.s.rebind(query), args...)
}

// execBuilt runs a statement built for one call.
func (t *Tx) execBuilt(ctx context.Context, query string, args ...any) (int64, error) {
	return t.q.Exec(ctx, t.s.rebind(query), args...)
}

// lockRow returns query with the dialect's row-lock clause inside Update.
func (t *Tx) lockRow(query string) string {
	if t.write {
		return query + t.s.d.LockRow
	}
	return query
}

// notFound returns an ErrNotFound error about a record.
func notFound(what string) error {
	return fmt.Errorf("%w: %s", storage.ErrNotFound, what)
}

// mustAffect returns ErrNotFound, about what, unless n rows changed.
func mustAffect(n int64, what string) error {
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// collect reads every row with scan and closes rows.
func collect[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
