package sqlstore

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one schema change of a SQL store.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the migrations of fsys, files migrations/NNNN_name.sql,
// in order. Their numbers start at 1 and leave no gap, so that a missing file
// is an error rather than a skipped change. A migration, once released, is
// never edited: a change is a new file, in both stores alike.
func Migrations(fsys fs.FS) ([]Migration, error) {
	files, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, f := range files { // fs.Glob returns names in lexical order
		name := path.Base(f)
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: want a name like 0001_name.sql", name)
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: want number %d", name, len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	return ms, nil
}
