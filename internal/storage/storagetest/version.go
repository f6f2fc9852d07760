package storagetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// listVersions returns what ListVersions returns.
func listVersions(t *testing.T, s storage.Store, secretID string, f coffer.VersionFilter) ([]*storage.Version, int) {
	t.Helper()
	var vs []*storage.Version
	var total int
	view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		vs, total, err = tx.ListVersions(ctx, secretID, f)
		return err
	})
	return vs, total
}

// getVersion returns what GetVersion returns.
func getVersion(t *testing.T, s storage.Store, secretID string, revision uint32) *storage.Version {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.Version, error) {
		return tx.GetVersion(ctx, secretID, revision)
	})
}

// fullVersion returns a version with every field set.
func fullVersion(sec *coffer.Secret, revision uint32) *storage.Version {
	return &storage.Version{
		Version: coffer.Version{
			SecretID:            sec.ID,
			Revision:            revision,
			State:               coffer.VersionScheduledForDeletion,
			StateBeforeDeletion: coffer.VersionDisabled,
			Description:         "ünïcode \"description\"",
			DataCRC32:           ptr(uint32(0xdeadbeef)),
			Size:                5,
			Ephemeral: &coffer.EphemeralProperties{
				ExpiresAt:           ptr(at(time.Hour)),
				ExpiresOnceAccessed: true,
				Action:              coffer.EphemeralDelete,
			},
			DisabledAt:          ptr(at(2 * time.Hour)),
			DeletionRequestedAt: ptr(at(3 * time.Hour)),
			PurgeAt:             ptr(at(4 * time.Hour)),
			DestroyedAt:         ptr(at(5 * time.Hour)),
			AccessedAt:          ptr(at(6 * time.Hour)),
			CreatedBy:           "principal-1",
			CreatedAt:           at(0),
			UpdatedAt:           at(7 * time.Hour),
		},
		ProjectID: sec.ProjectID,
		Data:      []byte{0x00, 0x01, 0xff, 0x00, 0x7f},
	}
}

func testVersionRoundTrip(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	sec := newSecret(w.project.ID, "/", "versions")
	createSecrets(t, s, sec)

	tests := []struct {
		name string
		edit func(v *storage.Version)
	}{
		{"full", nil},
		{"minimal", func(v *storage.Version) {
			v.Version = coffer.Version{SecretID: v.SecretID, Revision: v.Revision, State: coffer.VersionEnabled, CreatedAt: at(0), UpdatedAt: at(0)}
			v.Data = nil
		}},
		{"empty data", func(v *storage.Version) { v.Data = []byte{} }},
		{"crc zero", func(v *storage.Version) { v.DataCRC32 = ptr(uint32(0)) }},
		{"crc max", func(v *storage.Version) { v.DataCRC32 = ptr(uint32(math.MaxUint32)) }},
		{"crc nil", func(v *storage.Version) { v.DataCRC32 = nil }},
		{"ephemeral without expiry", func(v *storage.Version) {
			v.Ephemeral = &coffer.EphemeralProperties{ExpiresOnceAccessed: true, Action: coffer.EphemeralDisable}
		}},
		{"ephemeral zero", func(v *storage.Version) { v.Ephemeral = &coffer.EphemeralProperties{} }},
		{"zoned times", func(v *storage.Version) {
			zone := time.FixedZone("UTC+9", 9*3600)
			v.CreatedAt = v.CreatedAt.In(zone)
			v.Ephemeral.ExpiresAt = ptr(v.Ephemeral.ExpiresAt.In(zone))
			v.AccessedAt = ptr(v.AccessedAt.In(zone))
		}},
		{"large data", func(v *storage.Version) {
			v.Data = make([]byte, 64<<10)
			for i := range v.Data {
				v.Data[i] = byte(i * 7)
			}
			v.Size = len(v.Data)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := fullVersion(sec, uint32(i+1))
			if tt.edit != nil {
				tt.edit(want)
			}
			createVersions(t, s, want)

			got := getVersion(t, s, sec.ID, want.Revision)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetVersion (-want +got):\n%s", diff)
			}
			checkUTC(t, "version", &got.CreatedAt, &got.UpdatedAt, got.DisabledAt,
				got.DeletionRequestedAt, got.PurgeAt, got.DestroyedAt, got.AccessedAt)
			if got.Ephemeral != nil {
				checkUTC(t, "version ephemeral", got.Ephemeral.ExpiresAt)
			}

			update(t, s, func(ctx context.Context, tx storage.Tx) error {
				got, err := tx.GetVersion(ctx, sec.ID, want.Revision)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("GetVersion in Update (-want +got):\n%s", diff)
				}
				return nil
			})

			// A listing returns the record without its data.
			list, _ := listVersions(t, s, sec.ID, coffer.VersionFilter{Offset: i, Limit: 1})
			if diff := cmp.Diff([]*storage.Version{withoutData(want)}, list); diff != "" {
				t.Errorf("ListVersions (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("highest revision", func(t *testing.T) {
		want := fullVersion(sec, math.MaxUint32)
		createVersions(t, s, want)
		if diff := cmp.Diff(want, getVersion(t, s, sec.ID, math.MaxUint32)); diff != "" {
			t.Errorf("GetVersion (-want +got):\n%s", diff)
		}
	})
}

func testVersionErrors(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	sec := newSecret(w.project.ID, "/", "a")
	other := newSecret(w.project.ID, "/", "b")
	createSecrets(t, s, sec, other)
	v1, v2 := newVersion(sec, 1), newVersion(sec, 2)
	createVersions(t, s, v1, v2)

	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		v := newVersion(sec, 2)
		v.Data = []byte("other data")
		return tx.CreateVersion(ctx, v)
	})
	if diff := cmp.Diff(v2, getVersion(t, s, sec.ID, 2)); diff != "" {
		t.Errorf("GetVersion after a conflict (-want +got):\n%s", diff)
	}
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		ghost := newSecret(w.project.ID, "/", "ghost")
		return tx.CreateVersion(ctx, newVersion(ghost, 1))
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetVersion(ctx, sec.ID, 3)
		return err
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetVersion(ctx, other.ID, 1)
		return err
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetVersion(ctx, newID(), 1)
		return err
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.UpdateVersion(ctx, newVersion(sec, 3))
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.UpdateVersion(ctx, newVersion(other, 1))
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.DeleteVersion(ctx, sec.ID, 3)
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.DeleteVersion(ctx, other.ID, 1)
	})

	// The same revision of another secret is another version.
	createVersions(t, s, newVersion(other, 1))

	// DeleteVersion removes one version only.
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteVersion(ctx, sec.ID, 1) })
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetVersion(ctx, sec.ID, 1)
		return err
	})
	if diff := cmp.Diff(v2, getVersion(t, s, sec.ID, 2)); diff != "" {
		t.Errorf("GetVersion(2) after deleting 1 (-want +got):\n%s", diff)
	}
	if got := getVersion(t, s, other.ID, 1); got.SecretID != other.ID {
		t.Errorf("GetVersion(other, 1) = %s/%d", got.SecretID, got.Revision)
	}
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.DeleteVersion(ctx, sec.ID, 1)
	})
}

func testUpdateVersion(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	sec := newSecret(w.project.ID, "/", "a")
	createSecrets(t, s, sec)
	orig := newVersion(sec, 1)
	neighbour := newVersion(sec, 2)
	createVersions(t, s, orig, neighbour)

	// Every field changes but the key and creation time, whatever the
	// argument holds for the latter; the data is replaced too.
	changed := fullVersion(sec, 1)
	changed.CreatedAt = at(-time.Hour)
	changed.Data = []byte("resealed under a new key")
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateVersion(ctx, changed) })
	want := *changed
	want.CreatedAt = orig.CreatedAt
	if diff := cmp.Diff(&want, getVersion(t, s, sec.ID, 1)); diff != "" {
		t.Errorf("GetVersion after UpdateVersion (-want +got):\n%s", diff)
	}

	// Destroyed: the data is gone, the metadata stays.
	destroyed := want
	destroyed.State = coffer.VersionDestroyed
	destroyed.DestroyedAt = ptr(at(8 * time.Hour))
	destroyed.Data = nil
	destroyed.Ephemeral = nil
	destroyed.DataCRC32 = nil
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateVersion(ctx, &destroyed) })
	if diff := cmp.Diff(&destroyed, getVersion(t, s, sec.ID, 1)); diff != "" {
		t.Errorf("GetVersion after destroying (-want +got):\n%s", diff)
	}

	if diff := cmp.Diff(neighbour, getVersion(t, s, sec.ID, 2)); diff != "" {
		t.Errorf("GetVersion(2) after updating 1 (-want +got):\n%s", diff)
	}
}

func testListVersions(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	sec := newSecret(w.project.ID, "/", "a")
	other := newSecret(w.project.ID, "/", "b")
	empty := newSecret(w.project.ID, "/", "c")
	createSecrets(t, s, sec, other, empty)
	states := []coffer.VersionState{
		coffer.VersionDestroyed, coffer.VersionDisabled, coffer.VersionEnabled,
		coffer.VersionScheduledForDeletion, coffer.VersionEnabled, coffer.VersionDisabled,
		coffer.VersionEnabled,
	}
	var all []*storage.Version
	for i, st := range states {
		v := newVersion(sec, uint32(i+1))
		v.State = st
		all = append(all, v)
	}
	// Written out of order, to be listed by revision.
	createVersions(t, s, all[3], all[0], all[6], all[1], all[5], all[2], all[4])
	createVersions(t, s, newVersion(other, 1), newVersion(other, 2))

	enabled := []coffer.VersionState{coffer.VersionEnabled}
	tests := []struct {
		name  string
		f     coffer.VersionFilter
		want  []uint32
		total int
	}{
		{"all", coffer.VersionFilter{}, []uint32{1, 2, 3, 4, 5, 6, 7}, 7},
		{"descending", coffer.VersionFilter{Descending: true}, []uint32{7, 6, 5, 4, 3, 2, 1}, 7},
		{"enabled", coffer.VersionFilter{States: enabled}, []uint32{3, 5, 7}, 3},
		{"two states", coffer.VersionFilter{States: []coffer.VersionState{coffer.VersionDisabled, coffer.VersionDestroyed}}, []uint32{1, 2, 6}, 3},
		{"every state", coffer.VersionFilter{States: []coffer.VersionState{
			coffer.VersionEnabled, coffer.VersionDisabled, coffer.VersionScheduledForDeletion, coffer.VersionDestroyed,
		}}, []uint32{1, 2, 3, 4, 5, 6, 7}, 7},
		{"enabled descending page", coffer.VersionFilter{States: enabled, Descending: true, Limit: 2}, []uint32{7, 5}, 3},
		{"enabled descending second page", coffer.VersionFilter{States: enabled, Descending: true, Offset: 2, Limit: 2}, []uint32{3}, 3},
		{"page", coffer.VersionFilter{Offset: 2, Limit: 2}, []uint32{3, 4}, 7},
		{"descending page", coffer.VersionFilter{Descending: true, Offset: 2, Limit: 2}, []uint32{5, 4}, 7},
		{"last page", coffer.VersionFilter{Offset: 6, Limit: 5}, []uint32{7}, 7},
		{"offset without limit", coffer.VersionFilter{Offset: 5}, []uint32{6, 7}, 7},
		{"past the end", coffer.VersionFilter{Offset: 7, Limit: 5}, nil, 7},
		{"far past the end", coffer.VersionFilter{Offset: 100}, nil, 7},
		{"state past the end", coffer.VersionFilter{States: []coffer.VersionState{coffer.VersionScheduledForDeletion}, Offset: 1}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total := listVersions(t, s, sec.ID, tt.f)
			var want []*storage.Version
			for _, rev := range tt.want {
				want = append(want, withoutData(all[rev-1]))
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListVersions(%+v) (-want +got):\n%s", tt.f, diff)
			}
			if total != tt.total {
				t.Errorf("ListVersions(%+v): total %d, want %d", tt.f, total, tt.total)
			}
			for _, v := range got {
				if v.Data != nil {
					t.Errorf("ListVersions: version %d has data", v.Revision)
				}
			}
		})
	}

	for name, id := range map[string]string{"no versions": empty.ID, "unknown secret": newID()} {
		t.Run(name, func(t *testing.T) {
			got, total := listVersions(t, s, id, coffer.VersionFilter{})
			if len(got) != 0 || total != 0 {
				t.Errorf("ListVersions: %d versions, total %d; want none", len(got), total)
			}
		})
	}
}
