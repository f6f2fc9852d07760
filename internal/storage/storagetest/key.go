package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
)

func testKey(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	def := &storage.Key{ID: newID(), ProjectID: w.project.ID, Name: "default", Default: true, CreatedAt: at(0)}
	extra := &storage.Key{ID: newID(), ProjectID: w.project.ID, Name: "extra", CreatedAt: at(time.Second)}
	extra2 := &storage.Key{ID: newID(), ProjectID: w.project.ID, Name: "extra2", CreatedAt: at(2 * time.Second)}
	otherDef := &storage.Key{ID: newID(), ProjectID: other.ID, Name: "default", Default: true, CreatedAt: at(0)}

	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetDefaultKey(ctx, w.project.ID)
		return err
	})
	// Keys that are not default are not limited.
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, k := range []*storage.Key{extra, extra2} {
			if err := tx.CreateKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetDefaultKey(ctx, w.project.ID)
		return err
	})
	// One default key per project.
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, k := range []*storage.Key{def, otherDef} {
			if err := tx.CreateKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})

	for _, want := range []*storage.Key{def, extra, extra2, otherDef} {
		got := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.Key, error) {
			return tx.GetKey(ctx, want.ID)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetKey(%s) (-want +got):\n%s", want.Name, diff)
		}
		checkUTC(t, "key", &got.CreatedAt)
	}
	for _, want := range []*storage.Key{def, otherDef} {
		got := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.Key, error) {
			return tx.GetDefaultKey(ctx, want.ProjectID)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetDefaultKey (-want +got):\n%s", diff)
		}
	}

	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return tx.CreateKey(ctx, &storage.Key{ID: newID(), ProjectID: w.project.ID, Name: "second default", Default: true, CreatedAt: at(0)})
	})
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		k := *extra
		k.Name = "same id"
		return tx.CreateKey(ctx, &k)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetKey(ctx, newID())
		return err
	})
}

func testKeyVersion(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	k := &storage.Key{ID: newID(), ProjectID: w.project.ID, Name: "default", Default: true, CreatedAt: at(0)}
	empty := &storage.Key{ID: newID(), ProjectID: w.project.ID, Name: "empty", CreatedAt: at(0)}
	// Versions written out of order, with numbers that sort differently as
	// text ("10" < "2").
	versions := []*storage.KeyVersion{
		{KeyID: k.ID, Version: 2, Wrapped: []byte{0x02, 0x00}, CreatedAt: at(2 * time.Hour)},
		{KeyID: k.ID, Version: 10, Wrapped: []byte{0x0a, 0xff}, CreatedAt: at(10 * time.Hour)},
		{KeyID: k.ID, Version: 1, Wrapped: []byte{0x01}, CreatedAt: at(time.Hour)},
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
		if err := tx.CreateKey(ctx, empty); err != nil {
			return err
		}
		for _, v := range versions {
			if err := tx.CreateKeyVersion(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})

	for _, want := range versions {
		got := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.KeyVersion, error) {
			return tx.GetKeyVersion(ctx, k.ID, want.Version)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetKeyVersion(%d) (-want +got):\n%s", want.Version, diff)
		}
		checkUTC(t, "key version", &got.CreatedAt)
	}
	got := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.KeyVersion, error) {
		return tx.LatestKeyVersion(ctx, k.ID)
	})
	if diff := cmp.Diff(versions[1], got); diff != "" {
		t.Errorf("LatestKeyVersion (-want +got):\n%s", diff)
	}

	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return tx.CreateKeyVersion(ctx, &storage.KeyVersion{KeyID: k.ID, Version: 2, Wrapped: []byte{0x09}, CreatedAt: at(0)})
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetKeyVersion(ctx, k.ID, 3)
		return err
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetKeyVersion(ctx, empty.ID, 1)
		return err
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.LatestKeyVersion(ctx, empty.ID)
		return err
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.LatestKeyVersion(ctx, newID())
		return err
	})

	// The same version number under another key is another version.
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.CreateKeyVersion(ctx, &storage.KeyVersion{KeyID: empty.ID, Version: 2, Wrapped: []byte{0x03}, CreatedAt: at(0)})
	})
	got = read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.KeyVersion, error) {
		return tx.LatestKeyVersion(ctx, empty.ID)
	})
	if got.Version != 2 || got.KeyID != empty.ID {
		t.Errorf("LatestKeyVersion(empty) = %s/%d, want %s/2", got.KeyID, got.Version, empty.ID)
	}
}
