package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// kvTx returns tx as a KeyVaultTx, skipping the test for a store that
// keeps no key vaults.
func kvTx(t *testing.T, tx storage.Tx) storage.KeyVaultTx {
	t.Helper()
	k, ok := tx.(storage.KeyVaultTx)
	if !ok {
		t.Skip("the store keeps no key vaults")
	}
	return k
}

// testKeyVaults checks the optional key vault, deployment and label
// records.
func testKeyVaults(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	now := time.Date(2026, 12, 2, 10, 0, 0, 123456000, time.UTC)
	kv := &storage.KeyVault{KeyVault: coffer.KeyVault{
		ID: newID(), ProjectID: w.project.ID, Name: "payments", Path: "/payments",
		Target: coffer.Target{Kind: coffer.TargetVault, Address: "https://vault:8200", Mount: "kv", Namespace: "ns"},
		State:  coffer.DeployDeploying, LabelIDs: []string{"l1", "l2"}, CreatedAt: now, UpdatedAt: now,
	}, SealedCredential: []byte{1, 2, 3}}
	local := &storage.KeyVault{KeyVault: coffer.KeyVault{
		ID: newID(), ProjectID: other.ID, Name: "local", Path: "/local",
		Target: coffer.Target{Kind: coffer.TargetNone}, State: coffer.DeployAvailable, CreatedAt: now, UpdatedAt: now,
	}}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := kvTx(t, tx).CreateKeyVault(ctx, kv); err != nil {
			return err
		}
		return kvTx(t, tx).CreateKeyVault(ctx, local)
	})
	dup := *kv
	dup.ID = newID()
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return kvTx(t, tx).CreateKeyVault(ctx, &dup) // name and path taken
	})
	got := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.KeyVault, error) {
		return kvTx(t, tx).GetKeyVault(ctx, kv.ID)
	})
	if diff := cmp.Diff(kv, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	got = read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.KeyVault, error) {
		return kvTx(t, tx).GetKeyVaultByPath(ctx, other.ID, "/local")
	})
	if diff := cmp.Diff(local, got); diff != "" {
		t.Errorf("by path (-want +got):\n%s", diff)
	}
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := kvTx(t, tx).GetKeyVaultByPath(ctx, w.project.ID, "/local")
		return err
	})
	kv.State, kv.RemoteID, kv.LastError, kv.LabelIDs, kv.UpdatedAt = coffer.DeployAvailable, "r-1", "", nil, now.Add(time.Second)
	// A target's every public setting, and a new credential, are kept.
	kv.Target = coffer.Target{Kind: coffer.TargetOKMS, Address: "https://eu-west-rbx.okms.example", OKMSID: "d1", AccessKey: "ak",
		CACertificate: "-----BEGIN CERTIFICATE-----\n...", Project: "p", Region: "r"}
	kv.SealedCredential = []byte{4, 5, 6}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return kvTx(t, tx).UpdateKeyVault(ctx, kv) })
	all := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.KeyVault, error) {
		return kvTx(t, tx).ListKeyVaults(ctx, nil)
	})
	if diff := cmp.Diff([]*storage.KeyVault{local, kv}, all); diff != "" { // reads back the update
		t.Errorf("list all (-want +got):\n%s", diff)
	}
	mine := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.KeyVault, error) {
		return kvTx(t, tx).ListKeyVaults(ctx, []string{w.project.ID})
	})
	if diff := cmp.Diff([]*storage.KeyVault{kv}, mine); diff != "" {
		t.Errorf("list one project (-want +got):\n%s", diff)
	}

	d := &coffer.Deployment{SecretID: newID(), KeyVaultID: kv.ID, ProjectID: w.project.ID, State: coffer.DeployStalled,
		DesiredRemoteID: "db-password", LabelIDs: []string{"l1"}, Attempts: 2, NextAttemptAt: ptr(now.Add(time.Minute)),
		LastError: "connection refused", CreatedAt: now, UpdatedAt: now}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return kvTx(t, tx).PutDeployment(ctx, d) })
	d.State, d.RemoteID, d.PushedRevision, d.Attempts, d.NextAttemptAt, d.LastError = coffer.DeployAvailable, "r-2", 3, 0, nil, ""
	d.Brownfield, d.UpdatedAt = true, now.Add(time.Second)
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return kvTx(t, tx).PutDeployment(ctx, d) })
	gd := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Deployment, error) {
		return kvTx(t, tx).GetDeployment(ctx, d.SecretID)
	})
	if diff := cmp.Diff(d, gd); diff != "" {
		t.Errorf("deployment (-want +got):\n%s", diff)
	}
	ds := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Deployment, error) {
		return kvTx(t, tx).ListDeployments(ctx, kv.ID)
	})
	if diff := cmp.Diff([]*coffer.Deployment{d}, ds); diff != "" {
		t.Errorf("deployments (-want +got):\n%s", diff)
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return kvTx(t, tx).DeleteDeployment(ctx, d.SecretID) })
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return kvTx(t, tx).DeleteDeployment(ctx, d.SecretID)
	})

	l := &coffer.Label{ID: newID(), OrganizationID: w.org.ID, Name: "prod", CreatedAt: now}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return kvTx(t, tx).CreateLabel(ctx, l) })
	l2 := *l
	l2.ID = newID()
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return kvTx(t, tx).CreateLabel(ctx, &l2)
	})
	gl := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Label, error) {
		return kvTx(t, tx).GetLabel(ctx, l.ID)
	})
	if diff := cmp.Diff(l, gl); diff != "" {
		t.Errorf("label (-want +got):\n%s", diff)
	}
	ls := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Label, error) {
		return kvTx(t, tx).ListLabels(ctx, w.org.ID)
	})
	if diff := cmp.Diff([]*coffer.Label{l}, ls); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}

	update(t, s, func(ctx context.Context, tx storage.Tx) error { return kvTx(t, tx).DeleteKeyVault(ctx, kv.ID) })
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := kvTx(t, tx).GetKeyVault(ctx, kv.ID)
		return err
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return kvTx(t, tx).DeleteKeyVault(ctx, kv.ID)
	})
}
