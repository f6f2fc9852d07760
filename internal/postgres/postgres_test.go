package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/storagetest"
)

// open opens a store in a fresh schema, closed and dropped when t ends.
func open(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewSchema(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.Require(t)
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t) })
}

// TestMigrate checks that nodes starting together on an empty schema all
// succeed, migrating it once, and that a node told not to migrate refuses a
// schema that is not at its version.
func TestMigrate(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	ctx := context.Background()

	_, err := postgres.Open(ctx, dsn, postgres.Options{NoMigrate: true})
	if !errors.Is(err, postgres.ErrSchemaVersion) {
		t.Fatalf("Open(NoMigrate) of an empty schema: %v, want ErrSchemaVersion", err)
	}

	const nodes = 4
	errs := make(chan error, nodes)
	var wg sync.WaitGroup
	for range nodes {
		wg.Go(func() {
			db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
			if err == nil {
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}

	db, err := postgres.Open(ctx, dsn, postgres.Options{NoMigrate: true})
	if err != nil {
		t.Fatalf("Open(NoMigrate) of a migrated schema: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Errorf("Migrate of a migrated schema: %v", err)
	}

	// A schema a newer program migrated is refused, migrating or not.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []postgres.Options{{}, {NoMigrate: true}} {
		if _, err := postgres.Open(ctx, dsn, opts); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open(%+v) of a newer schema: %v, want a refusal", opts, err)
		}
	}
}

// TestOpenErrors checks that a bad DSN fails without echoing its password.
func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{
		"postgres://coffer:hunter2-secret@127.0.0.1:1/coffer?sslmode=disable&connect_timeout=1",
		"postgres://coffer:hunter2-secret@%zz/coffer",
	} {
		_, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err == nil {
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}
