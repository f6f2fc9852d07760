package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// testCertificates checks the optional certificate records of a store that
// keeps them.
func testCertificates(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := newWorld(t, s)
	p := &coffer.Principal{ID: newID(), OrganizationID: w.org.ID, Kind: coffer.PrincipalApplication, Name: "tls-client", CreatedAt: at(0)}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreatePrincipal(ctx, p) })
	now := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	want := &storage.Certificate{Serial: "0a1b2c", PrincipalID: p.ID, ProjectID: w.project.ID,
		NotAfter: now.Add(24 * time.Hour), CreatedAt: now}
	err := s.Update(ctx, func(tx storage.Tx) error {
		ct, ok := tx.(storage.CertificateTx)
		if !ok {
			t.Skip("the store keeps no certificates")
		}
		return ct.CreateCertificate(ctx, want)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A backend may abort a transaction at its first error, so each failing
	// call gets its own.
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.CertificateTx).CreateCertificate(ctx, want)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.(storage.CertificateTx).GetCertificate(ctx, "ffff")
		return err
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.CertificateTx).RevokeCertificate(ctx, "ffff", now)
	})
	get := func() *storage.Certificate {
		var got *storage.Certificate
		if err := s.View(ctx, func(tx storage.Tx) (err error) {
			got, err = tx.(storage.CertificateTx).GetCertificate(ctx, want.Serial)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if diff := cmp.Diff(want, get()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	revoke := func(at time.Time) {
		if err := s.Update(ctx, func(tx storage.Tx) error {
			return tx.(storage.CertificateTx).RevokeCertificate(ctx, want.Serial, at)
		}); err != nil {
			t.Fatal(err)
		}
	}
	revoke(now.Add(time.Hour))
	revoke(now.Add(2 * time.Hour)) // the first revocation time stays
	if got := get(); got.RevokedAt == nil || !got.RevokedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("revoked at %v, want %v", got.RevokedAt, now.Add(time.Hour))
	}
}
