package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/storagetest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// open opens a new store in a temporary directory, closed when t ends.
func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return open(t, filepath.Join(t.TempDir(), "coffer.db"))
	})
}

// fixture stores an organization, a project and a secret with one version.
func fixture(t *testing.T, db storage.Store) (*coffer.Secret, *storage.Version) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	org := &coffer.Organization{ID: uuid.NewString(), Name: "acme", CreatedAt: now}
	p := &coffer.Project{ID: uuid.NewString(), OrganizationID: org.ID, Name: "default", CreatedAt: now, UpdatedAt: now}
	s := &coffer.Secret{
		ID: uuid.NewString(), ProjectID: p.ID, Path: "/a", Name: "b", Type: coffer.TypeKeyValue,
		Tags: []string{"t"}, State: coffer.SecretEnabled, LastRevision: 1, LatestRevision: 1, VersionCount: 1,
		Stages: map[string]uint32{coffer.StageActive: 1}, CreatedAt: now, UpdatedAt: now,
	}
	v := &storage.Version{
		Version: coffer.Version{
			SecretID: s.ID, Revision: 1, State: coffer.VersionEnabled, Size: 6,
			DataCRC32: new(uint32), CreatedAt: now, UpdatedAt: now,
		},
		ProjectID: p.ID,
		Data:      []byte("sealed"),
	}
	err := db.Update(t.Context(), func(tx storage.Tx) error {
		ctx := t.Context()
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, p); err != nil {
			return err
		}
		if err := tx.CreateSecret(ctx, s); err != nil {
			return err
		}
		return tx.CreateVersion(ctx, v)
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return s, v
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s, v := fixture(t, db)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Opening again finds the data, and applies no migration twice.
	for range 2 {
		db := open(t, path)
		err := db.View(t.Context(), func(tx storage.Tx) error {
			got, err := tx.GetSecret(t.Context(), s.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(s, got); diff != "" {
				t.Errorf("GetSecret after reopen (-want +got):\n%s", diff)
			}
			gotV, err := tx.GetVersion(t.Context(), s.ID, 1)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(v, gotV); diff != "" {
				t.Errorf("GetVersion after reopen (-want +got):\n%s", diff)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
		if err := db.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func TestOpenPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "coffer")
	path := filepath.Join(dir, "coffer.db")
	db := open(t, path)
	fixture(t, db)

	for _, c := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700},
		{path, 0o600},
		{path + "-wal", 0o600},
	} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(c.path), got, c.want)
		}
	}
}

func TestOpenPathNeedsNoEscaping(t *testing.T) {
	// Characters that mean something in a URI stay part of the file name.
	dir := filepath.Join(t.TempDir(), "a b?c=d#e%20f")
	path := filepath.Join(dir, "coffer?.db")
	db := open(t, path)
	fixture(t, db)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestOpenRejectsNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file::memory:?cache=shared"} {
		if db, err := sqlite.Open(path); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestUpdatePanicRollsBack(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "coffer.db"))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Update did not pass the panic on")
			}
		}()
		db.Update(t.Context(), func(tx storage.Tx) error {
			if err := tx.PutMeta(t.Context(), "k", []byte("v")); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()

	// The write connection is free again and nothing was committed.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := db.Update(ctx, func(tx storage.Tx) error {
		_, err := tx.GetMeta(ctx, "k")
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMeta after a panicking Update: %v, want ErrNotFound", err)
	}
}

func TestUpdateCanceled(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "coffer.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := db.Update(ctx, func(tx storage.Tx) error { return tx.PutMeta(ctx, "k", []byte("v")) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context: %v, want context.Canceled", err)
	}
	err = db.View(t.Context(), func(tx storage.Tx) error {
		_, err := tx.GetMeta(t.Context(), "k")
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMeta: %v, want ErrNotFound", err)
	}
}

// TestForeignKeys checks that records refer to records that exist: the
// schema refuses an orphan rather than store it.
func TestForeignKeys(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "coffer.db"))
	now := time.Now().UTC().Truncate(time.Microsecond)
	for name, fn := range map[string]func(context.Context, storage.Tx) error{
		"project": func(ctx context.Context, tx storage.Tx) error {
			return tx.CreateProject(ctx, &coffer.Project{ID: uuid.NewString(), OrganizationID: uuid.NewString(), Name: "p", CreatedAt: now, UpdatedAt: now})
		},
		"secret": func(ctx context.Context, tx storage.Tx) error {
			return tx.CreateSecret(ctx, &coffer.Secret{ID: uuid.NewString(), ProjectID: uuid.NewString(), Path: "/", Name: "s", CreatedAt: now, UpdatedAt: now})
		},
		"key version": func(ctx context.Context, tx storage.Tx) error {
			return tx.CreateKeyVersion(ctx, &storage.KeyVersion{KeyID: uuid.NewString(), Version: 1, Wrapped: []byte{1}, CreatedAt: now})
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := db.Update(t.Context(), func(tx storage.Tx) error { return fn(t.Context(), tx) })
			if !errors.Is(err, storage.ErrConflict) {
				t.Errorf("orphan %s: %v, want ErrConflict", name, err)
			}
		})
	}
}

// TestErrorsKeepTheDriverError checks that a classified error still carries
// the driver's error, for logs.
func TestErrorsKeepTheDriverError(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "coffer.db"))
	s, _ := fixture(t, db)
	err := db.Update(t.Context(), func(tx storage.Tx) error { return tx.CreateSecret(t.Context(), s) })
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateSecret twice: %v, want ErrConflict", err)
	}
	var driverErr interface{ Code() int }
	if !errors.As(err, &driverErr) {
		t.Errorf("CreateSecret twice: %v does not wrap the driver error", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`)
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if db, err := sqlite.Open(path); err == nil {
		db.Close()
		t.Error("Open of a database migrated by a newer program succeeded")
	}
}

// TestTwoHandlesSerializeWriters checks that writers serialize through the
// database file, not only within one DB: two handles on one file, as two
// processes would hold, never assign one revision twice.
func TestTwoHandlesSerializeWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	a := open(t, path)
	b := open(t, path)
	s, _ := fixture(t, a)

	const perWriter = 10
	var wg sync.WaitGroup
	for _, db := range []*sqlite.DB{a, b, a, b} {
		wg.Go(func() {
			for done := 0; done < perWriter; {
				err := db.Update(t.Context(), func(tx storage.Tx) error {
					ctx := t.Context()
					cur, err := tx.GetSecret(ctx, s.ID)
					if err != nil {
						return err
					}
					cur.LastRevision++
					v := &storage.Version{Version: coffer.Version{
						SecretID: s.ID, Revision: cur.LastRevision, State: coffer.VersionEnabled,
						CreatedAt: cur.UpdatedAt, UpdatedAt: cur.UpdatedAt,
					}}
					if err := tx.CreateVersion(ctx, v); err != nil {
						return err
					}
					return tx.UpdateSecret(ctx, cur)
				})
				switch {
				case err == nil:
					done++
				case errors.Is(err, storage.ErrConflict):
					// The other handle held the lock past the busy timeout.
				default:
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	const want = 1 + 4*perWriter // the fixture's version and the writers'
	err := b.View(t.Context(), func(tx storage.Tx) error {
		vs, n, err := tx.ListVersions(t.Context(), s.ID, coffer.VersionFilter{})
		if err != nil {
			return err
		}
		if n != want || len(vs) != want {
			t.Fatalf("%d versions, total %d; want %d", len(vs), n, want)
		}
		for i, v := range vs {
			if v.Revision != uint32(i+1) {
				t.Fatalf("version %d has revision %d", i, v.Revision)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
