package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
)

func testPrincipal(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	admin := &coffer.Principal{ID: newID(), OrganizationID: w.org.ID, Kind: coffer.PrincipalUser, Name: "alice", Admin: true, CreatedAt: at(0)}
	app := &coffer.Principal{ID: newID(), OrganizationID: w.org.ID, Kind: coffer.PrincipalApplication, Name: "ci", CreatedAt: at(time.Second)}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.CreatePrincipal(ctx, admin); err != nil {
			return err
		}
		return tx.CreatePrincipal(ctx, app)
	})
	for _, want := range []*coffer.Principal{admin, app} {
		got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Principal, error) {
			return tx.GetPrincipal(ctx, want.ID)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetPrincipal(%s) (-want +got):\n%s", want.Name, diff)
		}
		checkUTC(t, "principal", &got.CreatedAt)
	}

	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		p := *app
		p.Name = "other"
		return tx.CreatePrincipal(ctx, &p)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetPrincipal(ctx, newID())
		return err
	})
}

// newPrincipal stores a principal of the world's organization.
func (w world) newPrincipal(t *testing.T, s storage.Store) *coffer.Principal {
	t.Helper()
	p := &coffer.Principal{ID: newID(), OrganizationID: w.org.ID, Kind: coffer.PrincipalApplication, Name: "app", CreatedAt: at(0)}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreatePrincipal(ctx, p) })
	return p
}

func testAPIKey(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	p := w.newPrincipal(t, s)
	full := &storage.APIKey{
		APIKey: coffer.APIKey{
			AccessKey:        "SCWAAAAAAAAAAAAAAAAA",
			PrincipalID:      p.ID,
			OrganizationID:   w.org.ID,
			DefaultProjectID: w.project.ID,
			Description:      "deploy key",
			Disabled:         true,
			ExpiresAt:        ptr(at(365 * 24 * time.Hour)),
			CreatedAt:        at(0),
		},
		SecretHash:   []byte{0x00, 0x01, 0xfe, 0xff, 0x00},
		SealedSecret: []byte{0x01, 0x00, 0x02},
	}
	minimal := &storage.APIKey{
		APIKey: coffer.APIKey{
			AccessKey:      "SCWBBBBBBBBBBBBBBBBB",
			PrincipalID:    p.ID,
			OrganizationID: w.org.ID,
			CreatedAt:      at(time.Second),
		},
		SecretHash:   []byte{0x00, 0x01, 0xfe, 0xff, 0x01},
		SealedSecret: []byte("sealed"),
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.CreateAPIKey(ctx, full); err != nil {
			return err
		}
		return tx.CreateAPIKey(ctx, minimal)
	})

	get := func(t *testing.T, want *storage.APIKey) {
		t.Helper()
		got := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.APIKey, error) {
			return tx.GetAPIKey(ctx, want.AccessKey)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetAPIKey(%s) (-want +got):\n%s", want.AccessKey, diff)
		}
		checkUTC(t, "API key", &got.CreatedAt, got.ExpiresAt)
		got = read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.APIKey, error) {
			return tx.GetAPIKeyBySecretHash(ctx, want.SecretHash)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetAPIKeyBySecretHash(%x) (-want +got):\n%s", want.SecretHash, diff)
		}
	}
	get(t, full)
	get(t, minimal)

	t.Run("errors", func(t *testing.T) {
		updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
			k := *minimal
			k.SecretHash = []byte("another hash")
			return tx.CreateAPIKey(ctx, &k)
		})
		updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
			k := *minimal
			k.AccessKey = "SCWCCCCCCCCCCCCCCCCC"
			return tx.CreateAPIKey(ctx, &k)
		})
		viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.GetAPIKey(ctx, "SCWDDDDDDDDDDDDDDDDD")
			return err
		})
		viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			// A prefix of a stored hash is another hash.
			_, err := tx.GetAPIKeyBySecretHash(ctx, full.SecretHash[:4])
			return err
		})
		updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			k := *minimal
			k.AccessKey = "SCWDDDDDDDDDDDDDDDDD"
			return tx.UpdateAPIKey(ctx, &k)
		})
	})

	t.Run("update", func(t *testing.T) {
		// Description, disabled flag and expiry change; nothing else does,
		// whatever the argument holds.
		arg := *full
		arg.Description = "rotated"
		arg.Disabled = false
		arg.ExpiresAt = nil
		arg.PrincipalID = newID()
		arg.OrganizationID = newID()
		arg.DefaultProjectID = newID()
		arg.CreatedAt = at(time.Hour)
		arg.SecretHash = []byte("new hash")
		arg.SealedSecret = []byte("new sealed")
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateAPIKey(ctx, &arg) })
		want := *full
		want.Description, want.Disabled, want.ExpiresAt = arg.Description, arg.Disabled, arg.ExpiresAt
		get(t, &want)
		get(t, minimal)

		// And back: an expiry is set again.
		want.Disabled = true
		want.ExpiresAt = ptr(at(time.Minute))
		update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateAPIKey(ctx, &want) })
		get(t, &want)
	})
}
