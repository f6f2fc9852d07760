package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
)

// touch runs TouchVersions in an Update of its own.
func touch(t *testing.T, s storage.Store, accesses ...storage.VersionAccess) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		at, ok := tx.(storage.AccessTx)
		if !ok {
			t.Fatalf("%T does not implement storage.AccessTx", tx)
		}
		return at.TouchVersions(ctx, accesses)
	})
}

// testTouchVersions is the contract of storage.AccessTx.
func testTouchVersions(t *testing.T, s storage.Store) {
	t.Run("forward only", func(t *testing.T) { testTouchForward(t, s) })
	t.Run("waits for writers", func(t *testing.T) { testTouchWaitsForWriters(t, s) })
}

// testTouchForward: accessed_at only moves forward, nothing else changes,
// and versions that do not exist are skipped.
func testTouchForward(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	sec := newSecret(w.project.ID, "/", "touched")
	other := newSecret(w.project.ID, "/", "untouched")
	createSecrets(t, s, sec, other)
	never := newVersion(sec, 1)
	seen := newVersion(sec, 2)
	seen.AccessedAt = ptr(at(6 * time.Hour))
	destroyed := newVersion(sec, 3)
	destroyed.State, destroyed.DestroyedAt, destroyed.Data = coffer.VersionDestroyed, ptr(at(time.Hour)), nil
	bystander := newVersion(other, 1)
	createVersions(t, s, never, seen, destroyed, bystander)

	touch(t, s) // an empty batch does nothing
	touch(t, s,
		storage.VersionAccess{SecretID: sec.ID, Revision: 1, At: at(time.Hour)},
		storage.VersionAccess{SecretID: sec.ID, Revision: 2, At: at(time.Hour)}, // older: kept back
		storage.VersionAccess{SecretID: sec.ID, Revision: 3, At: at(2 * time.Hour)},
		storage.VersionAccess{SecretID: sec.ID, Revision: 9, At: at(time.Hour)},     // no such version
		storage.VersionAccess{SecretID: newID(), Revision: 1, At: at(time.Hour)},    // no such secret
		storage.VersionAccess{SecretID: sec.ID, Revision: 1, At: at(3 * time.Hour)}, // twice: the newest wins
		storage.VersionAccess{SecretID: sec.ID, Revision: 1, At: at(2 * time.Hour)},
	)
	never.AccessedAt = ptr(at(3 * time.Hour))
	destroyed.AccessedAt = ptr(at(2 * time.Hour))
	for _, want := range []*storage.Version{never, seen, destroyed, bystander} {
		got := getVersion(t, s, want.SecretID, want.Revision)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("version %d after TouchVersions (-want +got):\n%s", want.Revision, diff)
		}
		checkUTC(t, "accessed_at", got.AccessedAt)
	}

	// Two batches in either order converge on the newest time.
	touch(t, s, storage.VersionAccess{SecretID: sec.ID, Revision: 2, At: at(8 * time.Hour)})
	touch(t, s, storage.VersionAccess{SecretID: sec.ID, Revision: 2, At: at(7 * time.Hour)})
	if got := getVersion(t, s, sec.ID, 2).AccessedAt; got == nil || !got.Equal(at(8*time.Hour)) {
		t.Errorf("accessed_at after batches out of order: %v, want %v", got, at(8*time.Hour))
	}
	// A version deleted since is skipped, and the rest of the batch lands.
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteVersion(ctx, sec.ID, 1) })
	touch(t, s,
		storage.VersionAccess{SecretID: sec.ID, Revision: 1, At: at(9 * time.Hour)},
		storage.VersionAccess{SecretID: other.ID, Revision: 1, At: at(9 * time.Hour)})
	if got := getVersion(t, s, other.ID, 1).AccessedAt; got == nil || !got.Equal(at(9*time.Hour)) {
		t.Errorf("accessed_at beside a deleted version: %v, want %v", got, at(9*time.Hour))
	}
}

// testTouchWaitsForWriters: a batch that arrives while a writer of
// the secret holds a version it read does not land before that writer
// commits, so the writer cannot put back the older accessed_at it read.
func testTouchWaitsForWriters(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	sec := newSecret(w.project.ID, "/", "raced")
	createSecrets(t, s, sec)
	createVersions(t, s, newVersion(sec, 1))

	read := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(t.Context(), func(tx storage.Tx) error {
			ctx := t.Context()
			if _, err := tx.GetSecret(ctx, sec.ID); err != nil {
				return err
			}
			v, err := tx.GetVersion(ctx, sec.ID, 1)
			if err != nil {
				return err
			}
			close(read)
			time.Sleep(100 * time.Millisecond) // let the batch try to land
			v.Description = "changed"
			return tx.UpdateVersion(ctx, v)
		})
	}()
	<-read
	touch(t, s, storage.VersionAccess{SecretID: sec.ID, Revision: 1, At: at(time.Hour)})
	if err := <-done; err != nil {
		t.Fatalf("writer: %v", err)
	}
	got := getVersion(t, s, sec.ID, 1)
	if got.Description != "changed" || got.AccessedAt == nil || !got.AccessedAt.Equal(at(time.Hour)) {
		t.Fatalf("after a writer and a batch: description %q, accessed_at %v; want both kept", got.Description, got.AccessedAt)
	}
}
