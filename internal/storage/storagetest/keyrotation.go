package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
)

// keyRotationTx returns tx as a KeyRotationTx, or skips the test.
func keyRotationTx(t *testing.T, tx storage.Tx) storage.KeyRotationTx {
	t.Helper()
	kt, ok := tx.(storage.KeyRotationTx)
	if !ok {
		t.Skip("the store does not rotate keys")
	}
	return kt
}

func testKeyRotations(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	k1 := &storage.Key{ID: newID(), ProjectID: w.project.ID, Name: "default", Default: true, CreatedAt: at(0)}
	k2 := &storage.Key{ID: newID(), ProjectID: other.ID, Name: "default", Default: true, CreatedAt: at(0)}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, k := range []*storage.Key{k1, k2} {
			if err := tx.CreateKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := keyRotationTx(t, tx).GetKeyRotation(ctx, k1.ID)
		return err
	})
	r1 := &storage.KeyRotation{KeyID: k1.ID, ProjectID: w.project.ID, ToVersion: 2, Pass: 1,
		Total: 10, StartedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	r2 := &storage.KeyRotation{KeyID: k2.ID, ProjectID: other.ID, ToVersion: 1<<32 - 1, AfterSecret: newID(),
		AfterRevision: 1<<32 - 1, Pass: 3, PassRewrapped: 4, Scanned: 1 << 40, Rewrapped: 1 << 35, Total: 1 << 36,
		StartedAt: at(2 * time.Hour), UpdatedAt: at(3*time.Hour + time.Microsecond), CompletedAt: ptr(at(4 * time.Hour))}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, r := range []*storage.KeyRotation{r1, r2} {
			if err := keyRotationTx(t, tx).PutKeyRotation(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	for _, want := range []*storage.KeyRotation{r1, r2} {
		got := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.KeyRotation, error) {
			return keyRotationTx(t, tx).GetKeyRotation(ctx, want.KeyID)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetKeyRotation (-want +got):\n%s", diff)
		}
		checkUTC(t, "key rotation", &got.StartedAt, &got.UpdatedAt, got.CompletedAt)
	}
	// Put replaces.
	r1.AfterSecret, r1.AfterRevision, r1.Scanned, r1.Rewrapped, r1.PassRewrapped = newID(), 7, 5, 4, 4
	r1.UpdatedAt = at(5 * time.Hour)
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return keyRotationTx(t, tx).PutKeyRotation(ctx, r1) })
	for _, tc := range []struct {
		projects []string
		open     bool
		want     []*storage.KeyRotation
	}{
		{nil, false, []*storage.KeyRotation{r1, r2}},
		{nil, true, []*storage.KeyRotation{r1}},
		{[]string{other.ID}, false, []*storage.KeyRotation{r2}},
		{[]string{other.ID}, true, nil},
		{[]string{w.project.ID, other.ID}, false, []*storage.KeyRotation{r1, r2}},
		{[]string{}, false, nil},
	} {
		got := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.KeyRotation, error) {
			return keyRotationTx(t, tx).ListKeyRotations(ctx, tc.projects, tc.open)
		})
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ListKeyRotations(%v, %v) (-want +got):\n%s", tc.projects, tc.open, diff)
		}
	}
}

func testScanVersionData(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	other := w.addProject(t, s, "other")
	a, b := newSecret(w.project.ID, "/", "a"), newSecret(w.project.ID, "/", "b")
	o := newSecret(other.ID, "/", "o")
	createSecrets(t, s, a, b, o)
	var mine []*storage.Version
	for _, sec := range []*coffer.Secret{a, b} {
		for rev := uint32(1); rev <= 3; rev++ {
			v := newVersion(sec, rev)
			if rev == 2 && sec == a {
				v.Data = nil // destroyed
				v.State = coffer.VersionDestroyed
			} else {
				mine = append(mine, v)
			}
			createVersions(t, s, v)
		}
	}
	createVersions(t, s, newVersion(o, 1))
	if mine[0].SecretID > mine[len(mine)-1].SecretID {
		// In secret id order.
		mine = append(mine[2:], mine[:2]...)
	}
	n := read(t, s, func(ctx context.Context, tx storage.Tx) (int64, error) {
		return keyRotationTx(t, tx).CountVersionData(ctx, w.project.ID)
	})
	if n != int64(len(mine)) {
		t.Errorf("CountVersionData = %d, want %d", n, len(mine))
	}
	// Two versions at a time, from the start, to the end.
	var got []*storage.Version
	after, afterRev := "", uint32(0)
	for range 10 {
		page := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.Version, error) {
			return keyRotationTx(t, tx).ScanVersionData(ctx, w.project.ID, after, afterRev, 2)
		})
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		last := page[len(page)-1]
		after, afterRev = last.SecretID, last.Revision
	}
	if diff := cmp.Diff(mine, got); diff != "" {
		t.Errorf("ScanVersionData (-want +got):\n%s", diff)
	}

	// A re-wrap changes the data, and nothing else, only if it is still
	// the data the caller read.
	v := mine[0]
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return keyRotationTx(t, tx).RewrapVersionData(ctx, v.SecretID, v.Revision, v.Data, []byte("rewrapped"))
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return keyRotationTx(t, tx).RewrapVersionData(ctx, v.SecretID, v.Revision, v.Data, []byte("again"))
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return keyRotationTx(t, tx).RewrapVersionData(ctx, v.SecretID, 99, v.Data, []byte("again"))
	})
	stored := read(t, s, func(ctx context.Context, tx storage.Tx) (*storage.Version, error) {
		return tx.GetVersion(ctx, v.SecretID, v.Revision)
	})
	want := *v
	want.Data = []byte("rewrapped")
	if diff := cmp.Diff(&want, stored); diff != "" {
		t.Errorf("version after RewrapVersionData (-want +got):\n%s", diff)
	}
}

func testRootWrapped(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	p := w.newPrincipal(t, s)
	key := &storage.Key{ID: newID(), ProjectID: w.project.ID, Name: "default", Default: true, CreatedAt: at(0)}
	apiKey := &storage.APIKey{APIKey: coffer.APIKey{AccessKey: "SCWCCCCCCCCCCCCCCCCC", PrincipalID: p.ID,
		OrganizationID: w.org.ID, CreatedAt: at(0)}, SecretHash: []byte{9}, SealedSecret: []byte("api")}
	tr := &storage.Trigger{Trigger: coffer.Trigger{ID: newID(), ProjectID: w.project.ID, Name: "t",
		URL: "https://hooks.example/t", CreatedAt: at(0)}, SealedSecret: []byte("trigger")}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.CreateKey(ctx, key); err != nil {
			return err
		}
		for v := uint32(1); v <= 2; v++ {
			if err := tx.CreateKeyVersion(ctx, &storage.KeyVersion{KeyID: key.ID, Version: v, Wrapped: []byte{byte(v)}, CreatedAt: at(0)}); err != nil {
				return err
			}
		}
		if err := tx.CreateAPIKey(ctx, apiKey); err != nil {
			return err
		}
		rt, ok := tx.(storage.RotationTx)
		if !ok {
			return nil
		}
		return rt.CreateTrigger(ctx, tr)
	})
	got := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.RootWrapped, error) {
		return keyRotationTx(t, tx).ListRootWrapped(ctx)
	})
	byName := map[string]*storage.RootWrapped{}
	for _, w := range got {
		byName[w.Kind+"/"+w.ID+"/"+string(rune('0'+w.Version))] = w
	}
	want := map[string]*storage.RootWrapped{
		"key_version/" + key.ID + "/1":       {Kind: storage.RootWrappedKeyVersion, ID: key.ID, ProjectID: w.project.ID, Version: 1, Sealed: []byte{1}},
		"key_version/" + key.ID + "/2":       {Kind: storage.RootWrappedKeyVersion, ID: key.ID, ProjectID: w.project.ID, Version: 2, Sealed: []byte{2}},
		"api_key/" + apiKey.AccessKey + "/0": {Kind: storage.RootWrappedAPIKey, ID: apiKey.AccessKey, Sealed: []byte("api")},
		"trigger/" + tr.ID + "/0":            {Kind: storage.RootWrappedTrigger, ID: tr.ID, Sealed: []byte("trigger")},
	}
	if diff := cmp.Diff(want, byName); diff != "" {
		t.Errorf("ListRootWrapped (-want +got):\n%s", diff)
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, w := range got {
			w.Sealed = append([]byte("new-"), w.Sealed...)
			if err := keyRotationTx(t, tx).UpdateRootWrapped(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
	after := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.RootWrapped, error) {
		return keyRotationTx(t, tx).ListRootWrapped(ctx)
	})
	for _, w := range after {
		if string(w.Sealed[:4]) != "new-" {
			t.Errorf("%s %s was not updated", w.Kind, w.ID)
		}
	}
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return keyRotationTx(t, tx).UpdateRootWrapped(ctx, &storage.RootWrapped{Kind: storage.RootWrappedAPIKey, ID: "SCWNOPE", Sealed: []byte("x")})
	})
	if err := s.Update(t.Context(), func(tx storage.Tx) error {
		return keyRotationTx(t, tx).UpdateRootWrapped(t.Context(), &storage.RootWrapped{Kind: "nope", ID: "x"})
	}); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateRootWrapped of an unknown kind: err = %v", err)
	}
}
