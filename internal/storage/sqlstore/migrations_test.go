package sqlstore_test

import (
	"testing"
	"testing/fstest"

	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
)

// TestMigrations checks the order and the numbering rules: from 1, no gap,
// names NNNN_name.sql.
func TestMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	ms, err := sqlstore.Migrations(fstest.MapFS{
		"migrations/0002_b.sql": file("B"),
		"migrations/0001_a.sql": file("A"),
		"migrations/notes.txt":  file("not a migration"),
	})
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[0].SQL != "A" || ms[1].Name != "0002_b.sql" {
		t.Fatalf("migrations: %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a gap":          {"migrations/0001_a.sql": file("A"), "migrations/0003_c.sql": file("C")},
		"not from 1":     {"migrations/0002_b.sql": file("B")},
		"no number":      {"migrations/init.sql": file("A")},
		"number zero":    {"migrations/0000_a.sql": file("A")},
		"the same twice": {"migrations/0001_a.sql": file("A"), "migrations/0001_b.sql": file("B")},
	} {
		if ms, err := sqlstore.Migrations(fsys); err == nil {
			t.Errorf("%s: %d migrations, want an error", name, len(ms))
		}
	}
}
