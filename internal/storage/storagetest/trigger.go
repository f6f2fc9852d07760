package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// testTriggers checks the optional rotation triggers of a store and the
// index of secrets by trigger.
func testTriggers(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	mk := func(projectID, name string) *storage.Trigger {
		return &storage.Trigger{Trigger: coffer.Trigger{ID: newID(), ProjectID: projectID, Name: name,
			URL: "https://hooks.example/" + name, CreatedAt: at(time.Hour)}, SealedSecret: []byte{0x00, 0x01, 0xff}}
	}
	b, a, c := mk(w.project.ID, "b"), mk(w.project.ID, "a"), mk(other.ID, "c")
	err := s.Update(ctx, func(tx storage.Tx) error {
		rt, ok := tx.(storage.RotationTx)
		if !ok {
			t.Skip("the store keeps no triggers")
		}
		for _, tr := range []*storage.Trigger{b, a, c} {
			if err := rt.CreateTrigger(ctx, tr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dup := mk(w.project.ID, "a")
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.RotationTx).CreateTrigger(ctx, dup)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.(storage.RotationTx).GetTrigger(ctx, newID())
		return err
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.RotationTx).DeleteTrigger(ctx, newID())
	})
	got := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.Trigger, error) {
		return tx.(storage.RotationTx).GetTrigger(ctx, a.ID)
	})
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	linked := newSecret(w.project.ID, "/", "linked")
	linked.Rotation = &coffer.RotationPolicy{TriggerID: a.ID}
	createSecrets(t, s, linked, newSecret(w.project.ID, "/", "unlinked"))
	a.Secrets = []string{linked.ID}
	list := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.Trigger, error) {
		return tx.(storage.RotationTx).ListTriggers(ctx, []string{w.project.ID})
	})
	if diff := cmp.Diff([]*storage.Trigger{a, b}, list); diff != "" {
		t.Errorf("ListTriggers (-want +got):\n%s", diff)
	}
	if list := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.Trigger, error) {
		return tx.(storage.RotationTx).ListTriggers(ctx, []string{w.project.ID, other.ID})
	}); len(list) != 3 {
		t.Errorf("ListTriggers of two projects: %d triggers, want 3", len(list))
	}
	// Unlinking is an update of the rotation policy.
	linked.Rotation.TriggerID = ""
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateSecret(ctx, linked) })
	ids := read(t, s, func(ctx context.Context, tx storage.Tx) ([]string, error) {
		return tx.(storage.RotationTx).TriggerSecrets(ctx, a.ID)
	})
	if len(ids) != 0 {
		t.Errorf("TriggerSecrets after unlinking: %v", ids)
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.RotationTx).DeleteTrigger(ctx, a.ID)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.(storage.RotationTx).GetTrigger(ctx, a.ID)
		return err
	})
}

// testDueRotations checks DueRotations: the open job's deadline, else the
// next automatic rotation.
func testDueRotations(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	now := at(100 * time.Hour)
	mk := func(name string, p *coffer.RotationPolicy) *coffer.Secret {
		sec := newSecret(w.project.ID, "/", name)
		sec.Rotation = p
		return sec
	}
	job := func(st coffer.RotationJobState, deadline time.Time) *coffer.RotationJob {
		return &coffer.RotationJob{ID: newID(), TokenHash: []byte{1}, State: st, CreatedAt: at(0), UpdatedAt: at(0), Deadline: deadline}
	}
	auto2h := mk("auto-2h", &coffer.RotationPolicy{Enabled: true, Period: time.Hour, NextRunAt: ptr(now.Add(-2 * time.Hour))})
	late := mk("late-job", &coffer.RotationPolicy{Job: job(coffer.JobStarted, now.Add(-time.Hour))})
	autoNow := mk("auto-now", &coffer.RotationPolicy{Enabled: true, Period: time.Hour, NextRunAt: ptr(now),
		Job: job(coffer.JobCompleted, now.Add(-3*time.Hour))})
	createSecrets(t, s, auto2h, late, autoNow,
		mk("auto-later", &coffer.RotationPolicy{Enabled: true, NextRunAt: ptr(now.Add(time.Microsecond))}),
		mk("auto-off", &coffer.RotationPolicy{NextRunAt: ptr(now.Add(-time.Hour))}),
		// An open job's deadline hides the due rotation behind it.
		mk("job-open", &coffer.RotationPolicy{Enabled: true, NextRunAt: ptr(now.Add(-time.Hour)), Job: job(coffer.JobCreated, now.Add(time.Hour))}),
		mk("plain", nil),
	)
	due := func(limit int) []string {
		ss := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Secret, error) {
			rt, ok := tx.(storage.RotationTx)
			if !ok {
				t.Skip("the store has no rotation index")
			}
			return rt.DueRotations(ctx, now, limit)
		})
		var names []string
		for _, sec := range ss {
			names = append(names, sec.Name)
		}
		return names
	}
	if diff := cmp.Diff([]string{"auto-2h", "late-job", "auto-now"}, due(100)); diff != "" {
		t.Errorf("DueRotations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"auto-2h"}, due(1)); diff != "" {
		t.Errorf("DueRotations limit 1 (-want +got):\n%s", diff)
	}
	got := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Secret, error) { return tx.GetSecret(ctx, late.ID) })
	if diff := cmp.Diff(late.Rotation, got.Rotation); diff != "" {
		t.Errorf("rotation round trip (-want +got):\n%s", diff)
	}
}
