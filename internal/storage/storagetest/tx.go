package storagetest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
)

func testPing(t *testing.T, s storage.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testUpdateRollback(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	existing := newSecret(w.project.ID, "/", "existing")
	createSecrets(t, s, existing)
	createVersions(t, s, newVersion(existing, 1))

	// checkUnchanged fails unless none of the writes below took effect.
	org := &coffer.Organization{ID: newID(), Name: "rolled back", CreatedAt: at(0)}
	sec := newSecret(w.project.ID, "/", "rolled-back")
	checkUnchanged := func(t *testing.T) {
		t.Helper()
		viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.GetOrganization(ctx, org.ID)
			return err
		})
		viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.GetSecret(ctx, sec.ID)
			return err
		})
		viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.GetMeta(ctx, "rolled-back")
			return err
		})
		got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
			return tx.GetSecret(ctx, existing.ID)
		})
		if diff := cmp.Diff(existing, got); diff != "" {
			t.Errorf("GetSecret(existing) (-want +got):\n%s", diff)
		}
		if _, n := listVersions(t, s, existing.ID, coffer.VersionFilter{}); n != 1 {
			t.Errorf("existing secret has %d versions, want 1", n)
		}
	}
	// writes makes changes of every kind, each of which a failure must undo.
	writes := func(ctx context.Context, tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateSecret(ctx, sec); err != nil {
			return err
		}
		if err := tx.PutMeta(ctx, "rolled-back", []byte("x")); err != nil {
			return err
		}
		changed := *existing
		changed.Description = "changed"
		changed.Tags = []string{"rolled-back"}
		if err := tx.UpdateSecret(ctx, &changed); err != nil {
			return err
		}
		if err := tx.CreateVersion(ctx, newVersion(existing, 2)); err != nil {
			return err
		}
		return tx.DeleteVersion(ctx, existing.ID, 1)
	}

	t.Run("fn error", func(t *testing.T) {
		errBoom := errors.New("boom")
		updateErr(t, s, errBoom, func(ctx context.Context, tx storage.Tx) error {
			if err := writes(ctx, tx); err != nil {
				return err
			}
			// The transaction sees its own writes.
			if _, err := tx.GetSecret(ctx, sec.ID); err != nil {
				t.Errorf("GetSecret of a secret created in this transaction: %v", err)
			}
			return errBoom
		})
		checkUnchanged(t)
	})

	t.Run("storage error", func(t *testing.T) {
		updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
			if err := writes(ctx, tx); err != nil {
				return err
			}
			return tx.CreateSecret(ctx, existing)
		})
		checkUnchanged(t)
		if got := listIDs(t, s, storage.SecretQuery{ProjectIDs: []string{w.project.ID}, Tags: []string{"rolled-back"}}); len(got) != 0 {
			t.Errorf("ListSecrets(tag of the rolled-back update) = %v, want none", got)
		}
	})
}

func testViewReadOnly(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	err := s.View(t.Context(), func(tx storage.Tx) error {
		return tx.PutMeta(t.Context(), "written-in-view", []byte("x"))
	})
	if err == nil {
		t.Error("PutMeta in View succeeded")
	}
	err = s.View(t.Context(), func(tx storage.Tx) error {
		return tx.CreateSecret(t.Context(), newSecret(w.project.ID, "/", "written-in-view"))
	})
	if err == nil {
		t.Error("CreateSecret in View succeeded")
	}
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetMeta(ctx, "written-in-view")
		return err
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetSecretByPath(ctx, w.project.ID, "/", "written-in-view")
		return err
	})
}

// testConcurrentWriters has several goroutines add versions to one secret,
// each reading the secret's last revision in the transaction that writes the
// next one: GetSecret inside Update must serialize them, so that revisions
// come out without gap or duplicate and no two transactions are ever between
// their GetSecret and their end at once.
func testConcurrentWriters(t *testing.T, s storage.Store) {
	const writers, writes = 8, 25
	w := newWorld(t, s)
	sec := newSecret(w.project.ID, "/", "contended")
	createSecrets(t, s, sec)

	var inside, conflicts atomic.Int32
	write := func(ctx context.Context, tx storage.Tx) error {
		cur, err := tx.GetSecret(ctx, sec.ID)
		if err != nil {
			return err
		}
		if n := inside.Add(1); n != 1 {
			t.Errorf("%d transactions hold the secret at once", n)
		}
		defer inside.Add(-1)
		runtime.Gosched() // give a racing writer its chance

		rev := cur.LastRevision + 1
		v := newVersion(cur, rev)
		if err := tx.CreateVersion(ctx, v); err != nil {
			return err
		}
		cur.LastRevision = rev
		cur.LatestRevision = rev
		cur.VersionCount++
		cur.Stages = map[string]uint32{coffer.StageActive: rev}
		return tx.UpdateSecret(ctx, cur)
	}

	ctx := t.Context()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for done := 0; done < writes; {
				err := s.Update(ctx, func(tx storage.Tx) error { return write(ctx, tx) })
				switch {
				case err == nil:
					done++
				case errors.Is(err, storage.ErrConflict):
					conflicts.Add(1) // lost a race: try again
				default:
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d conflicts retried", conflicts.Load())

	const total = writers * writes
	vs, n := listVersions(t, s, sec.ID, coffer.VersionFilter{})
	if n != total || len(vs) != total {
		t.Fatalf("ListVersions: %d versions, total %d; want %d", len(vs), n, total)
	}
	for i, v := range vs {
		if want := uint32(i + 1); v.Revision != want {
			t.Fatalf("version %d has revision %d, want %d", i, v.Revision, want)
		}
	}
	got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
		return tx.GetSecret(ctx, sec.ID)
	})
	if got.LastRevision != total || got.VersionCount != total || got.Stages[coffer.StageActive] != total {
		t.Errorf("secret: last revision %d, version count %d, active %d; want %d each",
			got.LastRevision, got.VersionCount, got.Stages[coffer.StageActive], total)
	}
}
