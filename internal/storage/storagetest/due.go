package storagetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// versionKey names a version in test messages.
func versionKey(v *storage.Version) string {
	return fmt.Sprintf("%s/%d", v.SecretID, v.Revision)
}

func testDueVersions(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	a := newSecret(w.project.ID, "/", "a")
	b := newSecret(other.ID, "/", "b")
	createSecrets(t, s, a, b)
	now := at(100 * time.Hour)

	type spec struct {
		sec       *coffer.Secret
		state     coffer.VersionState
		expiresAt *time.Time // nil: no expiry; the version is ephemeral only if set or onceAccessed
		once      bool
		purgeAt   *time.Time
	}
	mk := func(rev uint32, sp spec) *storage.Version {
		v := newVersion(sp.sec, rev)
		v.State = sp.state
		if sp.expiresAt != nil || sp.once {
			v.Ephemeral = &coffer.EphemeralProperties{ExpiresAt: sp.expiresAt, ExpiresOnceAccessed: sp.once, Action: coffer.EphemeralDisable}
		}
		v.PurgeAt = sp.purgeAt
		return v
	}
	before := func(d time.Duration) *time.Time { return ptr(now.Add(-d)) }
	after := func(d time.Duration) *time.Time { return ptr(now.Add(d)) }

	// Due, oldest first: expired 3h ago, purge 1h ago, expired 30m ago,
	// purge now.
	expired3h := mk(1, spec{sec: a, state: coffer.VersionEnabled, expiresAt: before(3 * time.Hour)})
	purge1h := mk(2, spec{sec: a, state: coffer.VersionScheduledForDeletion, purgeAt: before(time.Hour)})
	expired30m := mk(1, spec{sec: b, state: coffer.VersionEnabled, expiresAt: before(30 * time.Minute)})
	purgeNow := mk(2, spec{sec: b, state: coffer.VersionScheduledForDeletion, purgeAt: ptr(now), expiresAt: before(9 * time.Hour)})
	due := []*storage.Version{expired3h, purge1h, expired30m, purgeNow}

	notDue := []*storage.Version{
		mk(3, spec{sec: a, state: coffer.VersionEnabled, expiresAt: after(time.Microsecond)}),
		mk(4, spec{sec: a, state: coffer.VersionDisabled, expiresAt: before(5 * time.Hour)}),
		mk(5, spec{sec: a, state: coffer.VersionScheduledForDeletion, purgeAt: after(time.Microsecond)}),
		mk(6, spec{sec: a, state: coffer.VersionScheduledForDeletion}),
		mk(7, spec{sec: a, state: coffer.VersionEnabled, purgeAt: before(5 * time.Hour)}),
		mk(8, spec{sec: a, state: coffer.VersionDestroyed, purgeAt: before(5 * time.Hour), expiresAt: before(5 * time.Hour)}),
		mk(9, spec{sec: a, state: coffer.VersionEnabled, once: true}),
		mk(10, spec{sec: a, state: coffer.VersionEnabled}),
		mk(11, spec{sec: a, state: coffer.VersionDisabled, purgeAt: before(5 * time.Hour)}),
		mk(3, spec{sec: b, state: coffer.VersionEnabled, expiresAt: after(time.Hour), once: true}),
	}
	createVersions(t, s, append(slices.Clone(notDue), due...)...)

	dueVersions := func(t *testing.T, now time.Time, limit int) []*storage.Version {
		t.Helper()
		return read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.Version, error) {
			return tx.DueVersions(ctx, now, limit)
		})
	}
	wantDue := func(vs ...*storage.Version) []*storage.Version {
		out := make([]*storage.Version, len(vs))
		for i, v := range vs {
			out[i] = withoutData(v)
		}
		return out
	}

	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []*storage.Version
	}{
		{"all due", now, 100, wantDue(due...)},
		{"limit", now, 2, wantDue(expired3h, purge1h)},
		{"limit one", now, 1, wantDue(expired3h)},
		{"a microsecond earlier", now.Add(-time.Microsecond), 100, wantDue(expired3h, purge1h, expired30m)},
		{"at a purge time", now.Add(-time.Hour), 100, wantDue(expired3h, purge1h)},
		{"at an expiry time", now.Add(-3 * time.Hour), 100, wantDue(expired3h)},
		{"nothing due yet", now.Add(-3*time.Hour - time.Microsecond), 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dueVersions(t, tt.now, tt.limit)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("DueVersions(%v, %d) (-want +got):\n%s", tt.now, tt.limit, diff)
			}
		})
	}

	// A version leaves the scan once it has been acted on, and enters it
	// when its expiry is moved.
	t.Run("after update", func(t *testing.T) {
		disabled := *expired3h
		disabled.State = coffer.VersionDisabled
		disabled.DisabledAt = ptr(now)
		moved := *notDue[0] // enabled, expiring a microsecond after now
		moved.Ephemeral = &coffer.EphemeralProperties{ExpiresAt: before(10 * time.Hour), Action: coffer.EphemeralDelete}
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			if err := tx.UpdateVersion(ctx, &disabled); err != nil {
				return err
			}
			return tx.UpdateVersion(ctx, &moved)
		})
		got := dueVersions(t, now, 100)
		if diff := cmp.Diff(wantDue(&moved, purge1h, expired30m, purgeNow), got); diff != "" {
			var keys []string
			for _, v := range got {
				keys = append(keys, versionKey(v))
			}
			t.Errorf("DueVersions after update = %s (-want +got):\n%s", strings.Join(keys, ", "), diff)
		}
	})
}

func testDueSecrets(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	now := at(100 * time.Hour)
	mk := func(projectID, name string, state coffer.SecretState, purgeAt *time.Time) *coffer.Secret {
		sec := newSecret(projectID, "/", name)
		sec.State = state
		sec.PurgeAt = purgeAt
		return sec
	}
	purge2h := mk(w.project.ID, "purge-2h", coffer.SecretDeletionScheduled, ptr(now.Add(-2*time.Hour)))
	purge1h := mk(other.ID, "purge-1h", coffer.SecretDeletionScheduled, ptr(now.Add(-time.Hour)))
	purgeNow := mk(w.project.ID, "purge-now", coffer.SecretDeletionScheduled, ptr(now))
	due := []*coffer.Secret{purge2h, purge1h, purgeNow}
	createSecrets(t, s, append(slices.Clone(due),
		mk(w.project.ID, "later", coffer.SecretDeletionScheduled, ptr(now.Add(time.Microsecond))),
		mk(w.project.ID, "no-date", coffer.SecretDeletionScheduled, nil),
		mk(w.project.ID, "enabled", coffer.SecretEnabled, ptr(now.Add(-time.Hour))),
		mk(w.project.ID, "disabled", coffer.SecretDisabled, ptr(now.Add(-time.Hour))),
		mk(w.project.ID, "plain", coffer.SecretEnabled, nil),
	)...)

	dueSecrets := func(t *testing.T, now time.Time, limit int) []*coffer.Secret {
		t.Helper()
		return read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Secret, error) {
			return tx.DueSecrets(ctx, now, limit)
		})
	}
	byID := cmpopts.SortSlices(func(a, b *coffer.Secret) bool { return a.ID < b.ID })

	got := dueSecrets(t, now, 100)
	if diff := cmp.Diff(due, got, byID); diff != "" {
		t.Errorf("DueSecrets (-want +got):\n%s", diff)
	}
	got = dueSecrets(t, now, 2)
	if len(got) != 2 {
		t.Errorf("DueSecrets with limit 2: %d secrets", len(got))
	}
	for _, sec := range got {
		if !slices.ContainsFunc(due, func(d *coffer.Secret) bool { return d.ID == sec.ID }) {
			t.Errorf("DueSecrets with limit 2 returned %s, which is not due", sec.Name)
		}
	}
	got = dueSecrets(t, now.Add(-90*time.Minute), 100)
	if diff := cmp.Diff([]*coffer.Secret{purge2h}, got, byID); diff != "" {
		t.Errorf("DueSecrets earlier (-want +got):\n%s", diff)
	}
	if got := dueSecrets(t, now.Add(-3*time.Hour), 100); len(got) != 0 {
		t.Errorf("DueSecrets before anything is due: %d secrets", len(got))
	}
}
