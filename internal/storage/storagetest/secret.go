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

func testSecretRoundTrip(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	pid := w.project.ID

	// empty has every slice and map empty rather than nil, and every
	// policy present but zero: a store keeps the difference.
	empty := newSecret(pid, "/", "empty")
	empty.Tags = []string{}
	empty.UsedBy = []string{}
	empty.CustomMetadata = map[string]string{}
	empty.Stages = map[string]uint32{}
	empty.Ephemeral = &coffer.EphemeralPolicy{}
	empty.Rotation = &coffer.RotationPolicy{}

	zoned := newSecret(pid, "/", "zoned")
	zone := time.FixedZone("UTC-7", -7*3600)
	zoned.CreatedAt = zoned.CreatedAt.In(zone)
	zoned.UpdatedAt = zoned.UpdatedAt.In(zone)
	zoned.PurgeAt = ptr(at(time.Hour).In(zone))
	zoned.Rotation = &coffer.RotationPolicy{NextRunAt: ptr(at(time.Hour).In(zone))}

	duplicateTags := newSecret(pid, "/", "duplicate-tags")
	duplicateTags.Tags = []string{"b", "a", "b"}

	tests := []struct {
		name   string
		secret *coffer.Secret
	}{
		{"full", fullSecret(pid)},
		{"minimal", newSecret(pid, "/", "minimal")},
		{"empty", empty},
		{"zoned", zoned},
		{"duplicate tags", duplicateTags},
		{"names are bytes", newSecret(pid, "/ü/ß", "名前 with spaces")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.secret
			createSecrets(t, s, want)

			got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
				return tx.GetSecret(ctx, want.ID)
			})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetSecret (-want +got):\n%s", diff)
			}
			checkUTC(t, "secret", &got.CreatedAt, &got.UpdatedAt, got.DeletionRequestedAt, got.PurgeAt)
			if got.Rotation != nil {
				checkUTC(t, "secret rotation", got.Rotation.NextRunAt)
			}

			got = read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
				return tx.GetSecretByPath(ctx, want.ProjectID, want.Path, want.Name)
			})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetSecretByPath (-want +got):\n%s", diff)
			}

			// The same inside a write transaction, where the read locks.
			update(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, err := tx.GetSecret(ctx, want.ID)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("GetSecret in Update (-want +got):\n%s", diff)
				}
				got, err = tx.GetSecretByPath(ctx, want.ProjectID, want.Path, want.Name)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("GetSecretByPath in Update (-want +got):\n%s", diff)
				}
				return nil
			})

			// A listing returns the same record.
			list, _ := listSecrets(t, s, storage.SecretQuery{ProjectIDs: []string{pid}, Name: want.Name, Path: want.Path})
			if diff := cmp.Diff([]*coffer.Secret{want}, list); diff != "" {
				t.Errorf("ListSecrets (-want +got):\n%s", diff)
			}
		})
	}
}

func testSecretConflict(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	first := newSecret(w.project.ID, "/a", "name")
	createSecrets(t, s, first)

	// What (project, path, name) uniqueness does not forbid: names and paths
	// compare as bytes, case included.
	createSecrets(t, s,
		newSecret(w.project.ID, "/a", "Name"),
		newSecret(w.project.ID, "/A", "name"),
		newSecret(w.project.ID, "/a/name", "name"),
		newSecret(w.project.ID, "/", "name"),
		newSecret(other.ID, "/a", "name"),
	)

	tests := []struct {
		name   string
		secret *coffer.Secret
	}{
		{"taken id", func() *coffer.Secret {
			sec := newSecret(w.project.ID, "/b", "other")
			sec.ID = first.ID
			return sec
		}()},
		{"taken path and name", newSecret(w.project.ID, "/a", "name")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
				return tx.CreateSecret(ctx, tt.secret)
			})
			got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
				return tx.GetSecret(ctx, first.ID)
			})
			if diff := cmp.Diff(first, got); diff != "" {
				t.Errorf("GetSecret after the conflict (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("not found", func(t *testing.T) {
		for name, get := range map[string]func(context.Context, storage.Tx) (*coffer.Secret, error){
			"id": func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
				return tx.GetSecret(ctx, newID())
			},
			"path": func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
				return tx.GetSecretByPath(ctx, w.project.ID, "/b", "name")
			},
			"name": func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
				return tx.GetSecretByPath(ctx, w.project.ID, "/a", "NAME")
			},
			"project": func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
				return tx.GetSecretByPath(ctx, newID(), "/a", "name")
			},
		} {
			t.Run(name, func(t *testing.T) {
				viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
					_, err := get(ctx, tx)
					return err
				})
				updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
					_, err := get(ctx, tx)
					return err
				})
			})
		}
	})
}

func testUpdateSecret(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	orig := fullSecret(w.project.ID)
	neighbour := newSecret(w.project.ID, "/", "neighbour")
	neighbour.Tags = []string{"shared"}
	createSecrets(t, s, orig, neighbour)

	get := func(t *testing.T, id string) *coffer.Secret {
		t.Helper()
		return read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
			return tx.GetSecret(ctx, id)
		})
	}

	// Every field changes but the id, project and creation time, whatever
	// the argument holds for those.
	changed := &coffer.Secret{
		ID:                  orig.ID,
		ProjectID:           newID(),
		Path:                "/moved",
		Name:                "renamed",
		Type:                coffer.TypeKeyValue,
		Description:         "changed",
		Tags:                []string{"shared", "new"},
		Protected:           false,
		UsedBy:              []string{"other"},
		CustomMetadata:      map[string]string{"k": "v"},
		MaxVersions:         2,
		CASRequired:         false,
		VersionTTL:          time.Minute,
		Ephemeral:           &coffer.EphemeralPolicy{TTL: time.Second, Action: coffer.EphemeralDisable},
		Rotation:            &coffer.RotationPolicy{Period: time.Hour, Targets: []string{"password"}},
		KeyID:               "key-2",
		KeyVaultID:          "vault-2",
		State:               coffer.SecretRotating,
		DeletionRequestedAt: nil,
		PurgeAt:             nil,
		LastRevision:        9,
		LatestRevision:      9,
		OldestRevision:      1,
		VersionCount:        9,
		Stages:              map[string]uint32{coffer.StagePending: 9},
		CreatedAt:           at(-time.Hour),
		UpdatedAt:           at(3 * time.Hour),
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateSecret(ctx, changed) })
	want := *changed
	want.ProjectID = orig.ProjectID
	want.CreatedAt = orig.CreatedAt
	if diff := cmp.Diff(&want, get(t, orig.ID)); diff != "" {
		t.Errorf("GetSecret after UpdateSecret (-want +got):\n%s", diff)
	}
	gotByPath := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) {
		return tx.GetSecretByPath(ctx, orig.ProjectID, "/moved", "renamed")
	})
	if diff := cmp.Diff(&want, gotByPath); diff != "" {
		t.Errorf("GetSecretByPath(new path) (-want +got):\n%s", diff)
	}
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetSecretByPath(ctx, orig.ProjectID, orig.Path, orig.Name)
		return err
	})

	// Tag filters and tag listings follow the new tags.
	pids := []string{w.project.ID}
	if got := listIDs(t, s, storage.SecretQuery{ProjectIDs: pids, Tags: []string{"prod"}}); len(got) != 0 {
		t.Errorf("ListSecrets(tag prod) after the tag was removed = %v, want none", got)
	}
	if diff := cmp.Diff([]string{orig.ID}, listIDs(t, s, storage.SecretQuery{ProjectIDs: pids, Tags: []string{"new"}})); diff != "" {
		t.Errorf("ListSecrets(tag new) (-want +got):\n%s", diff)
	}
	tags, n := listTags(t, s, w.project.ID, 0, 0)
	if diff := cmp.Diff([]string{"new", "shared"}, tags); diff != "" || n != 2 {
		t.Errorf("ListTags = %v, %d, want [new shared], 2 (-want +got):\n%s", tags, n, diff)
	}

	// Back to nil fields.
	cleared := want
	cleared.Tags, cleared.UsedBy, cleared.CustomMetadata, cleared.Stages = nil, nil, nil, nil
	cleared.Ephemeral, cleared.Rotation = nil, nil
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateSecret(ctx, &cleared) })
	if diff := cmp.Diff(&cleared, get(t, orig.ID)); diff != "" {
		t.Errorf("GetSecret after clearing (-want +got):\n%s", diff)
	}
	tags, n = listTags(t, s, w.project.ID, 0, 0)
	if diff := cmp.Diff([]string{"shared"}, tags); diff != "" || n != 1 {
		t.Errorf("ListTags after clearing = %v, %d, want [shared], 1 (-want +got):\n%s", tags, n, diff)
	}

	t.Run("errors", func(t *testing.T) {
		updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			return tx.UpdateSecret(ctx, newSecret(w.project.ID, "/", "ghost"))
		})
		// Moving onto a taken (project, path, name) conflicts and changes
		// nothing.
		updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
			c := cleared
			c.Path, c.Name = neighbour.Path, neighbour.Name
			return tx.UpdateSecret(ctx, &c)
		})
		if diff := cmp.Diff(&cleared, get(t, orig.ID)); diff != "" {
			t.Errorf("GetSecret after a conflicting update (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(neighbour, get(t, neighbour.ID)); diff != "" {
			t.Errorf("GetSecret(neighbour) after a conflicting update (-want +got):\n%s", diff)
		}
	})
}

func testDeleteSecret(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	doomed := newSecret(w.project.ID, "/", "doomed")
	doomed.Tags = []string{"doomed-only", "shared"}
	kept := newSecret(w.project.ID, "/", "kept")
	kept.Tags = []string{"shared"}
	createSecrets(t, s, doomed, kept)
	createVersions(t, s, newVersion(doomed, 1), newVersion(doomed, 2), newVersion(kept, 1))

	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteSecret(ctx, doomed.ID) })

	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetSecret(ctx, doomed.ID)
		return err
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetSecretByPath(ctx, doomed.ProjectID, doomed.Path, doomed.Name)
		return err
	})
	for _, rev := range []uint32{1, 2} {
		viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.GetVersion(ctx, doomed.ID, rev)
			return err
		})
	}
	if vs, n := listVersions(t, s, doomed.ID, coffer.VersionFilter{}); len(vs) != 0 || n != 0 {
		t.Errorf("ListVersions of a deleted secret = %d versions, total %d; want none", len(vs), n)
	}
	tags, n := listTags(t, s, w.project.ID, 0, 0)
	if diff := cmp.Diff([]string{"shared"}, tags); diff != "" || n != 1 {
		t.Errorf("ListTags after delete = %v, %d; want [shared], 1 (-want +got):\n%s", tags, n, diff)
	}
	if diff := cmp.Diff([]string{kept.ID}, listIDs(t, s, storage.SecretQuery{ProjectIDs: []string{w.project.ID}})); diff != "" {
		t.Errorf("ListSecrets after delete (-want +got):\n%s", diff)
	}
	// The other secret keeps its version.
	vs, _ := listVersions(t, s, kept.ID, coffer.VersionFilter{})
	if diff := cmp.Diff([]*storage.Version{withoutData(newVersion(kept, 1))}, vs); diff != "" {
		t.Errorf("ListVersions(kept) (-want +got):\n%s", diff)
	}

	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.DeleteSecret(ctx, doomed.ID)
	})

	// Nothing of the deleted secret is left behind to collide with a new one
	// of the same id and path.
	again := newSecret(w.project.ID, "/", "doomed")
	again.ID = doomed.ID
	createSecrets(t, s, again)
	createVersions(t, s, newVersion(again, 1))
	vs, n = listVersions(t, s, again.ID, coffer.VersionFilter{})
	if len(vs) != 1 || n != 1 {
		t.Errorf("ListVersions of the new secret = %d versions, total %d; want 1, 1", len(vs), n)
	}
	if got := listIDs(t, s, storage.SecretQuery{ProjectIDs: []string{w.project.ID}, Tags: []string{"doomed-only"}}); len(got) != 0 {
		t.Errorf("ListSecrets(tag of the deleted secret) = %v, want none", got)
	}
	if diff := cmp.Diff([]string{kept.ID}, listIDs(t, s, storage.SecretQuery{ProjectIDs: []string{w.project.ID}, Tags: []string{"shared"}}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ListSecrets(tag shared) (-want +got):\n%s", diff)
	}
}
