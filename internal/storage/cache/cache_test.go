package cache_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/cache"
	"github.com/coffer-dev/coffer/internal/storage/storagetest"
)

func openSQLite(t testing.TB) storage.Store {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t testing.TB, dsn string) storage.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the storage suite against the cache on each backend:
// the cache must be indistinguishable from the store underneath.
func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storage.Store { return cache.New(openSQLite(t), cache.Config{}) })
	})
	t.Run("postgres", func(t *testing.T) {
		pgtest.Require(t)
		storagetest.Run(t, func(t *testing.T) storage.Store {
			return cache.New(openPostgres(t, pgtest.NewSchema(t)), cache.Config{})
		})
	})
}

// counter is a store that counts the transactions opened on it and the
// queries run in them.
type counter struct {
	storage.Store
	views, updates, queries atomic.Int64
}

func (c *counter) View(ctx context.Context, fn func(storage.Tx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, func(tx storage.Tx) error { return fn(countingTx{tx, c}) })
}

func (c *counter) Update(ctx context.Context, fn func(storage.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

type countingTx struct {
	storage.Tx
	c *counter
}

func (t countingTx) GetSecret(ctx context.Context, id string) (*coffer.Secret, error) {
	t.c.queries.Add(1)
	return t.Tx.GetSecret(ctx, id)
}

func (t countingTx) GetSecretByPath(ctx context.Context, projectID, path, name string) (*coffer.Secret, error) {
	t.c.queries.Add(1)
	return t.Tx.GetSecretByPath(ctx, projectID, path, name)
}

func (t countingTx) GetVersion(ctx context.Context, secretID string, revision uint32) (*storage.Version, error) {
	t.c.queries.Add(1)
	return t.Tx.GetVersion(ctx, secretID, revision)
}

// fixture is a project with one secret of two versions.
type fixture struct {
	secret *coffer.Secret
	now    time.Time
}

func newFixture(t *testing.T, s storage.Store) *fixture {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	org := &coffer.Organization{ID: uuid.NewString(), Name: "o", CreatedAt: now}
	prj := &coffer.Project{ID: uuid.NewString(), OrganizationID: org.ID, Name: "p", CreatedAt: now, UpdatedAt: now}
	sec := &coffer.Secret{ID: uuid.NewString(), ProjectID: prj.ID, Path: "/app", Name: "db", Type: coffer.TypeOpaque,
		Tags: []string{"a"}, State: coffer.SecretEnabled, LastRevision: 2, LatestRevision: 2, VersionCount: 2,
		Stages: map[string]uint32{coffer.StageActive: 2}, CreatedAt: now, UpdatedAt: now}
	err := s.Update(ctx, func(tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, prj); err != nil {
			return err
		}
		if err := tx.CreateSecret(ctx, sec); err != nil {
			return err
		}
		for rev := uint32(1); rev <= 2; rev++ {
			v := &storage.Version{Version: coffer.Version{SecretID: sec.ID, Revision: rev, State: coffer.VersionEnabled,
				Size: 6, CreatedAt: now, UpdatedAt: now}, Data: []byte("sealed")}
			if err := tx.CreateVersion(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{secret: sec, now: now}
}

// read reads the secret by path and by id and version rev in one view, as
// a Vault read does.
func read(t *testing.T, s storage.Store, f *fixture, rev uint32) (*coffer.Secret, *storage.Version) {
	t.Helper()
	ctx := t.Context()
	var (
		sec *coffer.Secret
		v   *storage.Version
	)
	err := s.View(ctx, func(tx storage.Tx) error {
		var err error
		if sec, err = tx.GetSecretByPath(ctx, f.secret.ProjectID, f.secret.Path, f.secret.Name); err != nil {
			return err
		}
		if _, err = tx.GetSecret(ctx, sec.ID); err != nil {
			return err
		}
		v, err = tx.GetVersion(ctx, sec.ID, rev)
		return err
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return sec, v
}

// TestHitOpensNoTransaction: the second read of an unchanged secret and
// version opens no transaction of the store underneath, and runs no query.
func TestHitOpensNoTransaction(t *testing.T) {
	inner := &counter{Store: openSQLite(t)}
	s := cache.New(inner, cache.Config{})
	f := newFixture(t, s)
	read(t, s, f, 2)
	if inner.views.Load() != 1 || inner.queries.Load() != 3 {
		t.Fatalf("first read: %d views, %d queries; want 1 and 3", inner.views.Load(), inner.queries.Load())
	}
	for range 3 {
		sec, v := read(t, s, f, 2)
		if sec.ID != f.secret.ID || v.Revision != 2 || string(v.Data) != "sealed" {
			t.Fatalf("read %+v, %+v", sec, v)
		}
	}
	if inner.views.Load() != 1 || inner.queries.Load() != 3 {
		t.Errorf("after hits: %d views, %d queries; want still 1 and 3", inner.views.Load(), inner.queries.Load())
	}
	// What a caller changes in a record it got is not the cache's.
	sec, v := read(t, s, f, 2)
	sec.Tags[0], sec.Stages[coffer.StageActive] = "changed", 9
	v.Data[0] = 'X'
	if sec, v := read(t, s, f, 2); sec.Tags[0] != "a" || sec.Stages[coffer.StageActive] != 2 || string(v.Data) != "sealed" {
		t.Errorf("a caller's change reached the cache: %v %v %q", sec.Tags, sec.Stages, v.Data)
	}
	// A view that needs more than the cache holds begins a transaction.
	err := s.View(t.Context(), func(tx storage.Tx) error {
		if _, err := tx.GetSecret(t.Context(), f.secret.ID); err != nil {
			return err
		}
		_, _, err := tx.ListVersions(t.Context(), f.secret.ID, coffer.VersionFilter{})
		return err
	})
	if err != nil || inner.views.Load() != 2 {
		t.Errorf("a view with a listing: %v, %d views, want 2", err, inner.views.Load())
	}
	if st := s.Stats(); st.Hits == 0 || st.Entries != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestWritesInvalidate: each kind of write of a secret or a version, on this
// store, is seen by the next read; a rolled-back write too leaves nothing
// stale.
func TestWritesInvalidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, tx storage.Tx, f *fixture) error
		check func(t *testing.T, sec *coffer.Secret, v *storage.Version, err error)
	}{
		{"new version", func(ctx context.Context, tx storage.Tx, f *fixture) error {
			s, err := tx.GetSecret(ctx, f.secret.ID)
			if err != nil {
				return err
			}
			s.LastRevision, s.LatestRevision = 3, 3
			if err := tx.UpdateSecret(ctx, s); err != nil {
				return err
			}
			return tx.CreateVersion(ctx, &storage.Version{Version: coffer.Version{SecretID: s.ID, Revision: 3,
				State: coffer.VersionEnabled, CreatedAt: f.now, UpdatedAt: f.now}, Data: []byte("three")})
		}, func(t *testing.T, sec *coffer.Secret, v *storage.Version, err error) {
			if err != nil || sec.LatestRevision != 3 {
				t.Errorf("latest %d, %v; want 3", sec.LatestRevision, err)
			}
		}},
		{"disable version", func(ctx context.Context, tx storage.Tx, f *fixture) error {
			v, err := tx.GetVersion(ctx, f.secret.ID, 2)
			if err != nil {
				return err
			}
			v.State, v.DisabledAt = coffer.VersionDisabled, &f.now
			return tx.UpdateVersion(ctx, v)
		}, func(t *testing.T, sec *coffer.Secret, v *storage.Version, err error) {
			if err != nil || v.State != coffer.VersionDisabled {
				t.Errorf("state %v, %v; want disabled", v.State, err)
			}
		}},
		{"destroy version", func(ctx context.Context, tx storage.Tx, f *fixture) error {
			v, err := tx.GetVersion(ctx, f.secret.ID, 2)
			if err != nil {
				return err
			}
			v.State, v.DestroyedAt, v.Data = coffer.VersionDestroyed, &f.now, nil
			return tx.UpdateVersion(ctx, v)
		}, func(t *testing.T, sec *coffer.Secret, v *storage.Version, err error) {
			if err != nil || v.State != coffer.VersionDestroyed || v.Data != nil {
				t.Errorf("state %v, data %q, %v; want destroyed", v.State, v.Data, err)
			}
		}},
		{"delete version", func(ctx context.Context, tx storage.Tx, f *fixture) error {
			return tx.DeleteVersion(ctx, f.secret.ID, 2)
		}, func(t *testing.T, sec *coffer.Secret, v *storage.Version, err error) {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("read after delete: %v, want ErrNotFound", err)
			}
		}},
		{"delete secret", func(ctx context.Context, tx storage.Tx, f *fixture) error {
			return tx.DeleteSecret(ctx, f.secret.ID)
		}, func(t *testing.T, sec *coffer.Secret, v *storage.Version, err error) {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("read after delete: %v, want ErrNotFound", err)
			}
		}},
		{"update metadata", func(ctx context.Context, tx storage.Tx, f *fixture) error {
			s, err := tx.GetSecret(ctx, f.secret.ID)
			if err != nil {
				return err
			}
			s.Description, s.Tags = "new", []string{"b"}
			return tx.UpdateSecret(ctx, s)
		}, func(t *testing.T, sec *coffer.Secret, v *storage.Version, err error) {
			if err != nil || sec.Description != "new" || sec.Tags[0] != "b" {
				t.Errorf("secret %+v, %v; want the new metadata", sec, err)
			}
		}},
		{"touch version", func(ctx context.Context, tx storage.Tx, f *fixture) error {
			return tx.(storage.AccessTx).TouchVersions(ctx, []storage.VersionAccess{{SecretID: f.secret.ID, Revision: 2, At: f.now}})
		}, func(t *testing.T, sec *coffer.Secret, v *storage.Version, err error) {
			if err != nil || v.AccessedAt == nil || !v.AccessedAt.Equal(v.CreatedAt) {
				t.Errorf("accessed_at %v, %v; want the time touched", v.AccessedAt, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := &counter{Store: openSQLite(t)}
			s := cache.New(inner, cache.Config{})
			f := newFixture(t, s)
			read(t, s, f, 2) // fills
			// A write that rolls back leaves the cache right too.
			errRollback := errors.New("roll back")
			if err := s.Update(t.Context(), func(tx storage.Tx) error {
				if err := tc.write(t.Context(), tx, f); err != nil {
					return err
				}
				return errRollback
			}); !errors.Is(err, errRollback) {
				t.Fatal(err)
			}
			if sec, v := read(t, s, f, 2); sec.Description != "" || v.State != coffer.VersionEnabled || v.AccessedAt != nil {
				t.Fatalf("after a rollback: %+v %+v", sec, v)
			}
			read(t, s, f, 2) // fills again
			if err := s.Update(t.Context(), func(tx storage.Tx) error { return tc.write(t.Context(), tx, f) }); err != nil {
				t.Fatal(err)
			}
			views := inner.views.Load()
			var (
				sec *coffer.Secret
				v   *storage.Version
			)
			err := s.View(t.Context(), func(tx storage.Tx) error {
				var err error
				if sec, err = tx.GetSecret(t.Context(), f.secret.ID); err != nil {
					return err
				}
				v, err = tx.GetVersion(t.Context(), f.secret.ID, 2)
				return err
			})
			tc.check(t, sec, v, err)
			if inner.views.Load() != views+1 {
				t.Errorf("the read after the write was answered from memory")
			}
		})
	}
}

// TestEphemeralBypass: a version with ephemeral properties is read from the
// store every time.
func TestEphemeralBypass(t *testing.T) {
	inner := &counter{Store: openSQLite(t)}
	s := cache.New(inner, cache.Config{})
	f := newFixture(t, s)
	exp := f.now.Add(time.Hour)
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		return tx.CreateVersion(t.Context(), &storage.Version{Version: coffer.Version{SecretID: f.secret.ID, Revision: 3,
			State: coffer.VersionEnabled, CreatedAt: f.now, UpdatedAt: f.now,
			Ephemeral: &coffer.EphemeralProperties{ExpiresAt: &exp, Action: coffer.EphemeralDisable}}, Data: []byte("brief")})
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		read(t, s, f, 3)
	}
	if got := inner.views.Load(); got != 3 {
		t.Errorf("%d views for 3 reads of an ephemeral version, want 3", got)
	}
}

// TestNoStaleFill races readers that fill the cache against a writer: after
// each write has returned, every read must see it. A fill of a row read
// before a commit must never outlive the commit's invalidation.
func TestNoStaleFill(t *testing.T) {
	s := cache.New(openSQLite(t), cache.Config{})
	f := newFixture(t, s)
	ctx := t.Context()
	var committed atomic.Int64 // the highest description number committed
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				floor := committed.Load()
				var sec *coffer.Secret
				if err := s.View(ctx, func(tx storage.Tx) error {
					var err error
					sec, err = tx.GetSecret(ctx, f.secret.ID)
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				if got := descNumber(sec.Description); got < floor {
					t.Errorf("read description %d after %d committed", got, floor)
					return
				}
			}
		})
	}
	for i := int64(1); i <= 200; i++ {
		err := s.Update(ctx, func(tx storage.Tx) error {
			sec, err := tx.GetSecret(ctx, f.secret.ID)
			if err != nil {
				return err
			}
			sec.Description = descString(i)
			return tx.UpdateSecret(ctx, sec)
		})
		if err != nil {
			t.Fatal(err)
		}
		committed.Store(i)
	}
	close(stop)
	wg.Wait()
}

func descString(n int64) string { return time.Unix(n, 0).UTC().Format(time.RFC3339) }

func descNumber(s string) int64 {
	if s == "" {
		return 0
	}
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return -1
	}
	return tm.Unix()
}

// TestBound: the cache stays within its bound, least recently used out.
func TestBound(t *testing.T) {
	s := cache.New(openSQLite(t), cache.Config{MaxBytes: 4000})
	f := newFixture(t, s)
	read(t, s, f, 1)
	read(t, s, f, 2)
	if st := s.Stats(); st.Bytes > 4000 || st.Entries != 1 {
		t.Fatalf("stats %+v", st)
	}
	s = cache.New(openSQLite(t), cache.Config{MaxBytes: 1000})
	f = newFixture(t, s)
	read(t, s, f, 2)
	if st := s.Stats(); st.Bytes > 1000 || st.Evictions == 0 {
		t.Fatalf("stats %+v: want evictions within 1000 bytes", st)
	}
}

// TestInvalidateAndStaleness: changes of other writers arrive through
// Invalidate; with MaxStale, hits need a recent Confirm.
func TestInvalidateAndStaleness(t *testing.T) {
	inner := &counter{Store: openSQLite(t)}
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := cache.New(inner, cache.Config{MaxStale: time.Second, Now: clock})
	f := newFixture(t, s)
	read(t, s, f, 2)
	read(t, s, f, 2)
	if got := inner.views.Load(); got != 2 {
		t.Fatalf("%d views without a Confirm, want 2: no hits", got)
	}
	s.Confirm(now)
	read(t, s, f, 2)
	if got := inner.views.Load(); got != 2 {
		t.Fatalf("%d views after a Confirm, want 2", got)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	read(t, s, f, 2)
	if got := inner.views.Load(); got != 3 {
		t.Fatalf("%d views a MaxStale after the Confirm, want 3", got)
	}
	s.Confirm(now)
	read(t, s, f, 2)
	s.Invalidate(storage.Change{Kind: storage.ChangeSecret, ID: f.secret.ID})
	read(t, s, f, 2)
	if got := inner.views.Load(); got != 4 {
		t.Fatalf("%d views after an invalidation, want 4", got)
	}
	s.Invalidate(storage.Change{Kind: storage.ChangeReset})
	if st := s.Stats(); st.Entries != 0 {
		t.Fatalf("after a reset: %+v", st)
	}
}

// TestCrossNode: two caches on one PostgreSQL database, each fed the
// changes the other commits, as two nodes are (internal/node). A write on
// one is seen by the next read on the other once its notification arrived;
// the test measures how long that takes after the commit returns.
func TestCrossNode(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	ctx := t.Context()
	dbA, dbB := openPostgres(t, dsn), openPostgres(t, dsn)
	a, b := cache.New(dbA, cache.Config{}), cache.New(dbB, cache.Config{})
	arrived := make(chan storage.Change, 64)
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = dbB.(storage.Notifier).Listen(lctx, func(c storage.Change) {
			b.Invalidate(c)
			arrived <- c
		})
	})
	defer func() { stop(); wg.Wait() }()
	if c := <-arrived; c.Kind != storage.ChangeReset {
		t.Fatalf("first change %+v, want a reset", c)
	}
	f := newFixture(t, a)
	next := func() {
		t.Helper()
		for {
			select {
			case c := <-arrived:
				if c.Kind == storage.ChangeSecret && c.ID == f.secret.ID {
					return
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the change of a never arrived at b")
			}
		}
	}
	next() // the fixture's
	var delays []time.Duration
	for i := int64(1); i <= 50; i++ {
		read(t, b, f, 2) // fills b
		err := a.Update(ctx, func(tx storage.Tx) error {
			sec, err := tx.GetSecret(ctx, f.secret.ID)
			if err != nil {
				return err
			}
			sec.Description = descString(i)
			return tx.UpdateSecret(ctx, sec)
		})
		committed := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		next()
		delays = append(delays, time.Since(committed))
		if sec, _ := read(t, b, f, 2); descNumber(sec.Description) != i {
			t.Fatalf("node b read %q after the change of a arrived, want %q", sec.Description, descString(i))
		}
	}
	slices.Sort(delays)
	t.Logf("commit on a -> invalidation on b: median %v, p90 %v, max %v (%d writes)",
		delays[len(delays)/2], delays[len(delays)*9/10], delays[len(delays)-1], len(delays))
}
