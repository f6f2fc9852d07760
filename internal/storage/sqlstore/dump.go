package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coffer-dev/coffer/internal/storage"
)

// DumpTables are the tables a dump copies, in an order in which every row
// a foreign key names is loaded before the rows that name it. A migration
// that adds a table adds it here or to NotDumped: a dump refuses a schema
// with a table in neither (CheckTables), so a new table cannot be left out
// of backups unnoticed.
var DumpTables = []string{
	"meta",
	"organizations",
	"projects",
	"principals",
	"api_keys",
	"keys",
	"key_versions",
	"key_rotations",
	"secrets",
	"secret_tags",
	"versions",
	"certificates",
	"audit_records_v1",
	"policies",
	"audit_blocks",
	"audit_pending",
	"triggers",
	"key_vaults",
	"deployments",
	"labels",
}

// NotDumped are the tables a dump leaves out: the schema's own version
// (the loading store's migrations write it), the jobs lease, which
// belongs to the nodes running now, not to the data, and the console's
// sessions: a restored node starts with none, so a backup holds no live
// login.
var NotDumped = []string{"schema_migrations", "leases", "sessions"}

// Column is a column of a table as the catalog describes it.
type Column struct {
	Name string
	// Bool is set for a boolean column (PostgreSQL's boolean; SQLite keeps
	// booleans as integers 0 and 1).
	Bool bool
}

// Catalog is what a backend tells of its schema, for dumps and loads.
type Catalog interface {
	// Tables returns the names of the schema's tables.
	Tables(ctx context.Context, q Querier) ([]string, error)
	// Columns returns a table's columns in their order.
	Columns(ctx context.Context, q Querier, table string) ([]Column, error)
}

// CheckTables fails unless every table of a schema is dumped or
// deliberately not dumped, and every dumped table exists.
func CheckTables(tables []string) error {
	for _, t := range tables {
		if !slices.Contains(DumpTables, t) && !slices.Contains(NotDumped, t) {
			return fmt.Errorf("dump: table %s is neither dumped nor left out on purpose (sqlstore.DumpTables)", t)
		}
	}
	for _, t := range DumpTables {
		if !slices.Contains(tables, t) {
			return fmt.Errorf("dump: the schema has no table %s", t)
		}
	}
	return nil
}

// Dump writes every dumped table that q reads to sink. q must read one
// snapshot: a read-only transaction of the backend's.
func Dump(ctx context.Context, q Querier, cat Catalog, sink storage.DumpSink, backend string, schema int) error {
	tables, err := cat.Tables(ctx, q)
	if err != nil {
		return err
	}
	if err := CheckTables(tables); err != nil {
		return err
	}
	if err := sink.Begin(backend, schema); err != nil {
		return err
	}
	for _, t := range DumpTables {
		cols, err := cat.Columns(ctx, q, t)
		if err != nil {
			return err
		}
		names := columnNames(cols)
		if err := sink.Table(t, names); err != nil {
			return err
		}
		if err := dumpRows(ctx, q, t, names, sink); err != nil {
			return fmt.Errorf("dump %s: %w", t, err)
		}
	}
	return nil
}

func dumpRows(ctx context.Context, q Querier, table string, names []string, sink storage.DumpSink) error {
	rows, err := q.Query(ctx, "SELECT "+quoteList(names)+" FROM "+quote(table))
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		clear(vals)
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			switch v := v.(type) {
			case int32:
				vals[i] = int64(v)
			case int16:
				vals[i] = int64(v)
			case int:
				vals[i] = int64(v)
			}
		}
		if err := sink.Row(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Load inserts the rows of src through q, a write transaction of a store at
// schema version schema, after checking that no dumped table holds a row.
// The caller commits when Load returns nil, and rolls back otherwise.
func (s *Store) Load(ctx context.Context, q Querier, cat Catalog, src storage.DumpSource, schema int) error {
	if src.Schema() != schema {
		return fmt.Errorf("load: the dump is of schema version %d, this program's is %d: "+
			"restore it with the coffer version that made it, then upgrade", src.Schema(), schema)
	}
	tables, err := cat.Tables(ctx, q)
	if err != nil {
		return err
	}
	if err := CheckTables(tables); err != nil {
		return err
	}
	for _, t := range DumpTables {
		var n int64
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM "+quote(t)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: table %s has %d rows", storage.ErrNotEmpty, t, n)
		}
	}
	seen := map[string]bool{}
	for {
		table, names, err := src.NextTable()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if !slices.Contains(DumpTables, table) || seen[table] {
			return fmt.Errorf("load: the dump has an unknown or repeated table %q", table)
		}
		seen[table] = true
		if err := s.loadTable(ctx, q, cat, src, table, names); err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
	}
	for _, t := range DumpTables {
		if !seen[t] {
			return fmt.Errorf("load: the dump has no table %s", t)
		}
	}
	return nil
}

func (s *Store) loadTable(ctx context.Context, q Querier, cat Catalog, src storage.DumpSource, table string, names []string) error {
	cols, err := cat.Columns(ctx, q, table)
	if err != nil {
		return err
	}
	isBool := make([]bool, len(names))
	for i, n := range names {
		j := slices.IndexFunc(cols, func(c Column) bool { return c.Name == n })
		if j < 0 || slices.Index(names, n) != i {
			return fmt.Errorf("the dump has an unknown or repeated column %q", n)
		}
		isBool[i] = cols[j].Bool
	}
	insert := s.rebind("INSERT INTO " + quote(table) + " (" + quoteList(names) + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")")
	for {
		row, err := src.NextRow()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for i, v := range row {
			switch v := v.(type) {
			case bool:
				if !isBool[i] {
					row[i] = int64(0)
					if v {
						row[i] = int64(1)
					}
				}
			case int64:
				if isBool[i] {
					row[i] = v != 0
				}
			}
		}
		if _, err := q.Exec(ctx, insert, row...); err != nil {
			return err
		}
	}
}

func columnNames(cols []Column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

// quote quotes an identifier; the names come from the catalog or from a
// dump checked against it, and are quoted all the same.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
