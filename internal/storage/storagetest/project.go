package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func testOrganization(t *testing.T, s storage.Store) {
	o := &coffer.Organization{ID: newID(), Name: "Acme, Inc.", CreatedAt: at(0)}
	// A time in another zone is stored as the same instant and read in UTC.
	o.CreatedAt = o.CreatedAt.In(time.FixedZone("UTC+5", 5*3600))
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateOrganization(ctx, o) })

	got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Organization, error) {
		return tx.GetOrganization(ctx, o.ID)
	})
	if diff := cmp.Diff(o, got); diff != "" {
		t.Errorf("GetOrganization (-want +got):\n%s", diff)
	}
	checkUTC(t, "organization", &got.CreatedAt)

	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return tx.CreateOrganization(ctx, &coffer.Organization{ID: o.ID, Name: "other", CreatedAt: at(0)})
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetOrganization(ctx, newID())
		return err
	})
}

func testProject(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := &coffer.Organization{ID: newID(), Name: "other", CreatedAt: at(0)}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateOrganization(ctx, other) })

	full := &coffer.Project{
		ID:             newID(),
		OrganizationID: w.org.ID,
		Name:           "beta",
		Settings:       coffer.ProjectSettings{MaxVersions: 42, CASRequired: true, VersionTTL: 48*time.Hour + time.Nanosecond, DeletionDelay: 72 * time.Hour},
		CreatedAt:      at(time.Hour),
		UpdatedAt:      at(2 * time.Hour),
	}
	zero := &coffer.Project{ID: newID(), OrganizationID: w.org.ID, Name: "Alpha"}
	lower := newProject(w.org.ID, "alpha")
	elsewhere := newProject(other.ID, "beta") // a name is unique per organization only
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, p := range []*coffer.Project{full, zero, lower, elsewhere} {
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})

	for _, want := range []*coffer.Project{w.project, full, zero, lower, elsewhere} {
		got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Project, error) {
			return tx.GetProject(ctx, want.ID)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetProject(%s) (-want +got):\n%s", want.Name, diff)
		}
		checkUTC(t, "project", &got.CreatedAt, &got.UpdatedAt)
	}

	t.Run("errors", func(t *testing.T) {
		updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
			p := newProject(w.org.ID, "unused")
			p.ID = full.ID
			return tx.CreateProject(ctx, p)
		})
		updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
			return tx.CreateProject(ctx, newProject(w.org.ID, "beta"))
		})
		viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.GetProject(ctx, newID())
			return err
		})
	})

	t.Run("list", func(t *testing.T) {
		got := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Project, error) {
			return tx.ListProjects(ctx, w.org.ID)
		})
		// Names compare as bytes: upper case first.
		want := []*coffer.Project{zero, lower, full, w.project}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListProjects (-want +got):\n%s", diff)
		}
		got = read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Project, error) {
			return tx.ListProjects(ctx, newID())
		})
		if diff := cmp.Diff([]*coffer.Project{}, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ListProjects(unknown organization) (-want +got):\n%s", diff)
		}
	})
}

func testUpdateProject(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	taken := w.addProject(t, s, "taken")

	// Name, settings and update time change; organization and creation time
	// do not, whatever the argument holds.
	arg := *w.project
	arg.Name = "renamed"
	arg.Settings = coffer.ProjectSettings{MaxVersions: 3, CASRequired: true, VersionTTL: time.Hour, DeletionDelay: 48 * time.Hour}
	arg.UpdatedAt = at(time.Hour)
	arg.OrganizationID = newID()
	arg.CreatedAt = at(-time.Hour)
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateProject(ctx, &arg) })

	want := *w.project
	want.Name = arg.Name
	want.Settings = arg.Settings
	want.UpdatedAt = arg.UpdatedAt
	got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Project, error) {
		return tx.GetProject(ctx, w.project.ID)
	})
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("GetProject after UpdateProject (-want +got):\n%s", diff)
	}

	// Back to zero settings.
	want.Settings = coffer.ProjectSettings{}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateProject(ctx, &want) })
	got = read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Project, error) {
		return tx.GetProject(ctx, w.project.ID)
	})
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("GetProject after clearing settings (-want +got):\n%s", diff)
	}

	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.UpdateProject(ctx, newProject(w.org.ID, "ghost"))
	})
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		p := want
		p.Name = taken.Name
		return tx.UpdateProject(ctx, &p)
	})
}
