package nodetest

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/coffer-dev/coffer/internal/node"
)

// SQL is a raw handle on a test node's store, for tests that read or tamper
// with rows as someone holding the database would. Queries use ?
// placeholders on both backends.
type SQL struct {
	db       *sql.DB
	postgres bool
}

// SQL opens a raw handle on the node's store, closed when t ends.
func (n *Node) SQL(t testing.TB) *SQL {
	t.Helper()
	return OpenSQL(t, n.DataDir, n.Store)
}

// OpenSQL opens a raw handle on the store of a node with data directory
// dataDir and store setting store, closed when t ends.
func OpenSQL(t testing.TB, dataDir, store string) *SQL {
	t.Helper()
	driver, dsn := "sqlite", filepath.Join(dataDir, node.DatabaseFile)
	if store != "" {
		driver, dsn = "pgx", store
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &SQL{db: db, postgres: store != ""}
}

// Close closes the handle.
func (s *SQL) Close() error { return s.db.Close() }

// Exec runs a statement.
func (s *SQL) Exec(query string, args ...any) (sql.Result, error) {
	return s.db.Exec(s.rebind(query), args...)
}

// QueryRow runs a query that returns at most one row.
func (s *SQL) QueryRow(query string, args ...any) *sql.Row {
	return s.db.QueryRow(s.rebind(query), args...)
}

// rebind turns ? placeholders into PostgreSQL's $1, $2...
func (s *SQL) rebind(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Dump returns the bytes of every value of every table of the store, as the
// driver returns them (sealed values as their raw bytes), by table name.
func (s *SQL) Dump(t testing.TB) map[string][]byte {
	t.Helper()
	q := `SELECT name FROM sqlite_schema WHERE type = 'table'`
	if s.postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var tables []string
	rows, err := s.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, table := range tables {
		rows, err := s.db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				out[table] = append(append(out[table], v...), 0)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}
