package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// testSyncStates checks the counts of key vaults and deployments by state,
// over every project.
func testSyncStates(t *testing.T, s storage.Store) {
	count := func() storage.SyncStates {
		return read(t, s, func(ctx context.Context, tx storage.Tx) (storage.SyncStates, error) {
			c, ok := tx.(storage.SyncStateTx)
			if !ok {
				t.Skip("the store counts no sync states")
			}
			return c.CountSyncStates(ctx)
		})
	}
	empty := storage.SyncStates{KeyVaults: map[coffer.DeployState]int{}, Deployments: map[coffer.DeployState]int{}}
	if diff := cmp.Diff(empty, count()); diff != "" {
		t.Errorf("an empty store (-want +got):\n%s", diff)
	}
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	vault := func(project, name string, state coffer.DeployState) *storage.KeyVault {
		return &storage.KeyVault{KeyVault: coffer.KeyVault{
			ID: newID(), ProjectID: project, Name: name, Path: "/" + name,
			Target: coffer.Target{Kind: coffer.TargetNone}, State: state, CreatedAt: now, UpdatedAt: now,
		}}
	}
	a, b, c := vault(w.project.ID, "a", coffer.DeployAvailable), vault(w.project.ID, "b", coffer.DeployStalled), vault(other.ID, "c", coffer.DeployAvailable)
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, v := range []*storage.KeyVault{a, b, c} {
			if err := kvTx(t, tx).CreateKeyVault(ctx, v); err != nil {
				return err
			}
		}
		for i, st := range []coffer.DeployState{coffer.DeployAvailable, coffer.DeployUpdatingError, coffer.DeployUpdatingError} {
			v := []*storage.KeyVault{a, b, c}[i]
			d := &coffer.Deployment{SecretID: newID(), KeyVaultID: v.ID, ProjectID: v.ProjectID, State: st, CreatedAt: now, UpdatedAt: now}
			if err := kvTx(t, tx).PutDeployment(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	want := storage.SyncStates{
		KeyVaults:   map[coffer.DeployState]int{coffer.DeployAvailable: 2, coffer.DeployStalled: 1},
		Deployments: map[coffer.DeployState]int{coffer.DeployAvailable: 1, coffer.DeployUpdatingError: 2},
	}
	if diff := cmp.Diff(want, count()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
