package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// iamTx returns tx's IAM abilities; every backend has them.
func iamTx(t *testing.T, tx storage.Tx) storage.IAMTx {
	t.Helper()
	itx, ok := tx.(storage.IAMTx)
	if !ok {
		t.Fatal("the store's Tx does not implement storage.IAMTx")
	}
	return itx
}

func testIAM(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := newWorld(t, s)
	bob := &coffer.Principal{ID: newID(), OrganizationID: w.org.ID, Kind: coffer.PrincipalUser, Name: "bob", CreatedAt: at(0)}
	ci := &coffer.Principal{ID: newID(), OrganizationID: w.org.ID, Kind: coffer.PrincipalApplication, Name: "ci", CreatedAt: at(time.Second)}
	stranger := other.newPrincipal(t, s)
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return errors.Join(tx.CreatePrincipal(ctx, ci), tx.CreatePrincipal(ctx, bob))
	})

	// Principals list by name, one organization at a time.
	got := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Principal, error) {
		return iamTx(t, tx).ListPrincipals(ctx, w.org.ID)
	})
	if diff := cmp.Diff([]*coffer.Principal{bob, ci}, got); diff != "" {
		t.Errorf("ListPrincipals (-want +got):\n%s", diff)
	}

	// Keys.
	key := func(access string, p *coffer.Principal, created time.Duration) *storage.APIKey {
		return &storage.APIKey{
			APIKey: coffer.APIKey{AccessKey: access, PrincipalID: p.ID, OrganizationID: p.OrganizationID,
				DefaultProjectID: w.project.ID, Description: "d", CreatedAt: at(created)},
			SecretHash: []byte(access + "-hash"), SealedSecret: []byte(access + "-sealed"),
		}
	}
	k1, k2, k3 := key("SCWBBBBBBBBBBBBBBBBB", ci, 2*time.Second), key("SCWAAAAAAAAAAAAAAAAA", bob, time.Second), key("SCWCCCCCCCCCCCCCCCCC", ci, 3*time.Second)
	ks := key("SCWDDDDDDDDDDDDDDDDD", stranger, 0)
	ks.DefaultProjectID = other.project.ID
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return errors.Join(tx.CreateAPIKey(ctx, k1), tx.CreateAPIKey(ctx, k2), tx.CreateAPIKey(ctx, k3), tx.CreateAPIKey(ctx, ks))
	})
	keys := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.APIKey, error) {
		return iamTx(t, tx).ListAPIKeys(ctx, w.org.ID, "")
	})
	if diff := cmp.Diff([]*storage.APIKey{k2, k1, k3}, keys); diff != "" {
		t.Errorf("ListAPIKeys of the organization (-want +got):\n%s", diff)
	}
	keys = read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.APIKey, error) {
		return iamTx(t, tx).ListAPIKeys(ctx, w.org.ID, ci.ID)
	})
	if diff := cmp.Diff([]*storage.APIKey{k1, k3}, keys); diff != "" {
		t.Errorf("ListAPIKeys of a principal (-want +got):\n%s", diff)
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return iamTx(t, tx).DeleteAPIKey(ctx, k3.AccessKey)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetAPIKey(ctx, k3.AccessKey)
		return err
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return iamTx(t, tx).DeleteAPIKey(ctx, k3.AccessKey)
	})

	// Policies.
	pol := func(p *coffer.Principal, project, prefix string, created time.Duration, sets ...coffer.PermissionSet) *coffer.Policy {
		return &coffer.Policy{ID: newID(), OrganizationID: p.OrganizationID, PrincipalID: p.ID, ProjectID: project,
			PathPrefix: prefix, PermissionSets: sets, CreatedAt: at(created)}
	}
	p1 := pol(ci, w.project.ID, "/team/app", time.Second, coffer.SecretManagerReadOnly, coffer.SecretManagerSecretAccess)
	p2 := pol(ci, "", "/", 0, coffer.IAMManager)
	p3 := pol(bob, w.project.ID, "/", 2*time.Second, coffer.SecretManagerFullAccess)
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		itx := iamTx(t, tx)
		return errors.Join(itx.CreatePolicy(ctx, p1), itx.CreatePolicy(ctx, p2), itx.CreatePolicy(ctx, p3))
	})
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return iamTx(t, tx).CreatePolicy(ctx, p1)
	})
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		p := pol(ci, "", "/", 0, coffer.IAMManager)
		p.PrincipalID = newID()
		return iamTx(t, tx).CreatePolicy(ctx, p)
	})
	gotPol := read(t, s, func(ctx context.Context, tx storage.Tx) (*coffer.Policy, error) {
		return iamTx(t, tx).GetPolicy(ctx, p1.ID)
	})
	if diff := cmp.Diff(p1, gotPol); diff != "" {
		t.Errorf("GetPolicy (-want +got):\n%s", diff)
	}
	checkUTC(t, "policy", &gotPol.CreatedAt)
	pols := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Policy, error) {
		return iamTx(t, tx).ListPolicies(ctx, w.org.ID, "")
	})
	if diff := cmp.Diff([]*coffer.Policy{p2, p1, p3}, pols); diff != "" {
		t.Errorf("ListPolicies of the organization (-want +got):\n%s", diff)
	}
	pols = read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Policy, error) {
		return iamTx(t, tx).ListPolicies(ctx, w.org.ID, ci.ID)
	})
	if diff := cmp.Diff([]*coffer.Policy{p2, p1}, pols); diff != "" {
		t.Errorf("ListPolicies of a principal (-want +got):\n%s", diff)
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return iamTx(t, tx).DeletePolicy(ctx, p2.ID) })
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return iamTx(t, tx).DeletePolicy(ctx, p2.ID)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := iamTx(t, tx).GetPolicy(ctx, p2.ID)
		return err
	})

	// Deleting a principal takes its keys, certificates and policies along.
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		ct, ok := tx.(storage.CertificateTx)
		if !ok {
			return nil
		}
		return ct.CreateCertificate(ctx, &storage.Certificate{Serial: "0abc", PrincipalID: ci.ID, ProjectID: w.project.ID,
			NotAfter: at(time.Hour), CreatedAt: at(0)})
	})
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return iamTx(t, tx).DeletePrincipal(ctx, ci.ID) })
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return iamTx(t, tx).DeletePrincipal(ctx, ci.ID)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetPrincipal(ctx, ci.ID)
		return err
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.GetAPIKey(ctx, k1.AccessKey)
		return err
	})
	pols = read(t, s, func(ctx context.Context, tx storage.Tx) ([]*coffer.Policy, error) {
		return iamTx(t, tx).ListPolicies(ctx, w.org.ID, "")
	})
	if diff := cmp.Diff([]*coffer.Policy{p3}, pols); diff != "" {
		t.Errorf("policies after deleting a principal (-want +got):\n%s", diff)
	}
	// The other organization is untouched.
	keys = read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.APIKey, error) {
		return iamTx(t, tx).ListAPIKeys(ctx, other.org.ID, "")
	})
	if diff := cmp.Diff([]*storage.APIKey{ks}, keys); diff != "" {
		t.Errorf("keys of another organization (-want +got):\n%s", diff)
	}
}

// testListSecretsPathPrefixes: PathPrefixes keeps the secrets at or below
// any of its prefixes, on top of the other filters, with a right count.
func testListSecretsPathPrefixes(t *testing.T, s storage.Store) {
	l := newListing(t, s)
	for _, tc := range []struct {
		name string
		q    storage.SecretQuery
		want []string
	}{
		{"one prefix", storage.SecretQuery{ProjectIDs: []string{l.p1}, PathPrefixes: []string{"/a/b"}},
			[]string{"1 /a/b beta", "1 /a/b/c dup"}},
		{"two prefixes", storage.SecretQuery{ProjectIDs: []string{l.p1}, PathPrefixes: []string{"/a/b", "/b"}},
			[]string{"1 /a/b beta", "1 /a/b/c dup", "1 /b dup"}},
		{"root", storage.SecretQuery{ProjectIDs: []string{l.p1, l.p2}, PathPrefixes: []string{"/b", "/"}, Name: "alpha"},
			[]string{"1 / alpha", "1 /a alpha", "1 /A alpha", "2 /a alpha"}},
		{"with PathPrefix", storage.SecretQuery{ProjectIDs: []string{l.p1}, PathPrefix: "/a", PathPrefixes: []string{"/a/b", "/b"}},
			[]string{"1 /a/b beta", "1 /a/b/c dup"}},
		{"with Path", storage.SecretQuery{ProjectIDs: []string{l.p1}, Path: "/a", PathPrefixes: []string{"/a/b"}},
			nil},
		{"across projects", storage.SecretQuery{ProjectIDs: []string{l.p1, l.p2, l.p3}, PathPrefixes: []string{"/a"}, Name: "alpha"},
			[]string{"1 /a alpha", "2 /a alpha", "3 /a alpha"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := l.ids(t, tc.want...)
			got, total := listSecrets(t, s, tc.q)
			if diff := cmp.Diff(want, ids(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if total != len(want) {
				t.Errorf("total %d, want %d", total, len(want))
			}
			q := tc.q
			q.Limit = 1
			if _, total := listSecrets(t, s, q); total != len(want) {
				t.Errorf("paged total %d, want %d", total, len(want))
			}
		})
	}
}
