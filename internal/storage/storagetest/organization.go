package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// testListOrganizations: every organization is listed, oldest first, ties
// broken by id, times in UTC; an empty store lists none.
func testListOrganizations(t *testing.T, s storage.Store) {
	if !read(t, s, func(_ context.Context, tx storage.Tx) (bool, error) {
		_, ok := tx.(storage.OrganizationTx)
		return ok, nil
	}) {
		t.Skip("the store does not list organizations")
	}
	list := func() []*coffer.Organization {
		t.Helper()
		return read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Organization, error) {
			return tx.(storage.OrganizationTx).ListOrganizations(ctx)
		})
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("ListOrganizations of an empty store: %v", got)
	}

	// Created out of order: the listing sorts by creation time, then id.
	first := &coffer.Organization{ID: "00000000-0000-4000-8000-000000000002", Name: "system", CreatedAt: at(0)}
	tie := &coffer.Organization{ID: "00000000-0000-4000-8000-000000000001", Name: "Zeta, Inc.", CreatedAt: at(time.Hour)}
	tie2 := &coffer.Organization{ID: "00000000-0000-4000-8000-000000000003", Name: "alpha", CreatedAt: at(time.Hour)}
	last := &coffer.Organization{ID: newID(), Name: "ünïcode", CreatedAt: at(2*time.Hour + time.Microsecond)}
	// A time in another zone is the same instant, read back in UTC.
	last.CreatedAt = last.CreatedAt.In(time.FixedZone("UTC-3", -3*3600))
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, o := range []*coffer.Organization{last, tie2, first, tie} {
			if err := tx.CreateOrganization(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	got := list()
	want := []*coffer.Organization{first, tie, tie2, last}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListOrganizations (-want +got):\n%s", diff)
	}
	for _, o := range got {
		checkUTC(t, "organization "+o.Name, &o.CreatedAt)
	}

	// A rolled-back creation is not listed.
	rolledBack := &coffer.Organization{ID: newID(), Name: "gone", CreatedAt: at(0)}
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx, rolledBack); err != nil {
			return err
		}
		return tx.CreateOrganization(ctx, &coffer.Organization{ID: first.ID, Name: "dup", CreatedAt: at(0)})
	})
	if got := list(); len(got) != len(want) {
		t.Errorf("after a rolled-back creation: %d organizations, want %d", len(got), len(want))
	}
}
