package storagetest

import (
	"context"
	"testing"

	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
)

func testMeta(t *testing.T, s storage.Store) {
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetMeta(ctx, "lease")
		return err
	})

	binary := []byte{0x00, 0xff, 0x01, 'a', 0x00}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.PutMeta(ctx, "lease", []byte("node-1")); err != nil {
			return err
		}
		if err := tx.PutMeta(ctx, "binary", binary); err != nil {
			return err
		}
		return tx.PutMeta(ctx, "empty", []byte{})
	})
	get := func(name string) []byte {
		t.Helper()
		return read(t, s, func(ctx context.Context, tx storage.Tx) ([]byte, error) { return tx.GetMeta(ctx, name) })
	}
	if diff := cmp.Diff([]byte("node-1"), get("lease")); diff != "" {
		t.Errorf("GetMeta(lease) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(binary, get("binary")); diff != "" {
		t.Errorf("GetMeta(binary) (-want +got):\n%s", diff)
	}
	if got := get("empty"); len(got) != 0 {
		t.Errorf("GetMeta(empty) = %q, want an empty value", got)
	}

	// PutMeta replaces, and only the named value.
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.PutMeta(ctx, "lease", []byte("node-2"))
	})
	if diff := cmp.Diff([]byte("node-2"), get("lease")); diff != "" {
		t.Errorf("GetMeta(lease) after replace (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(binary, get("binary")); diff != "" {
		t.Errorf("GetMeta(binary) after replacing lease (-want +got):\n%s", diff)
	}

	// Names are exact.
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetMeta(ctx, "LEASE")
		return err
	})
}
