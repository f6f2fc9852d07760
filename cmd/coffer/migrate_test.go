package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// runMigrate runs coffer migrate with args and an environment.
func runMigrate(env map[string]string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"migrate"}, args...), strings.NewReader(""), &out, &errOut,
		func(k string) string { return env[k] })
	return out.String(), errOut.String(), code
}

func TestMigrateCommand(t *testing.T) {
	t.Run("needs a PostgreSQL URL", func(t *testing.T) {
		for _, args := range [][]string{nil, {"--store", "sqlite:///tmp/x.db"}, {"--store", "postgres://x", "extra"}} {
			if _, errOut, code := runMigrate(nil, args...); code != 2 || errOut == "" {
				t.Errorf("migrate %q: exit %d, stderr %q; want 2 and a message", args, code, errOut)
			}
		}
	})
	t.Run("migrates", func(t *testing.T) {
		dsn := pgtest.NewSchema(t)
		for _, c := range []struct {
			env  map[string]string
			args []string
		}{{nil, []string{"--store", dsn}}, {map[string]string{"COFFER_STORE": dsn}, nil}} {
			if out, errOut, code := runMigrate(c.env, c.args...); code != 0 || !strings.Contains(out, "up to date") {
				t.Fatalf("migrate: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		}
		db, err := postgres.Open(context.Background(), dsn, postgres.Options{NoMigrate: true})
		if err != nil {
			t.Fatalf("open the migrated schema without migrating: %v", err)
		}
		db.Close()
	})
}

func TestServeRejectsUnknownStore(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--store", "mysql://u:pw@h/db"},
		strings.NewReader(""), &out, &errOut, func(string) string { return "" })
	if code != 2 || !strings.Contains(errOut.String(), "postgres://") || strings.Contains(errOut.String(), "pw@") {
		t.Errorf("serve --store mysql://...: exit %d, stderr %q; want 2, a hint, and no echo of the URL", code, errOut.String())
	}
}
