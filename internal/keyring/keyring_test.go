package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/seal"
	"github.com/coffer-dev/coffer/internal/storage"
)

const (
	projectA = "11111111-1111-4111-8111-111111111111"
	projectB = "22222222-2222-4222-8222-222222222222"
	secretID = "33333333-3333-4333-8333-333333333333"
)

var epoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func clock() time.Time { return epoch }

func newRoot(t testing.TB) *seal.Root {
	t.Helper()
	raw := make([]byte, seal.KeySize)
	_, _ = rand.Read(raw)
	r, _, err := seal.Load(seal.Config{EnvKey: base64.StdEncoding.EncodeToString(raw)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func openKeyring(t testing.TB, s storage.Store, root *seal.Root) *Keyring {
	t.Helper()
	kr, err := Open(context.Background(), s, root, clock)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = kr.Close() })
	return kr
}

// seal seals pt for (project, secretID, rev) in an Update and returns the
// ciphertext.
func sealIn(t testing.TB, kr *Keyring, s storage.Store, project, keyID string, rev uint32, pt []byte) []byte {
	t.Helper()
	var ct []byte
	err := s.Update(context.Background(), func(tx storage.Tx) error {
		var err error
		ct, err = kr.SealVersion(context.Background(), tx, project, keyID, pt, envelope.VersionAD(project, secretID, rev))
		return err
	})
	if err != nil {
		t.Fatalf("SealVersion: %v", err)
	}
	return ct
}

// openIn opens ct for (project, secretID, rev) in a View.
func openIn(t testing.TB, kr *Keyring, s storage.Store, project string, rev uint32, ct []byte) ([]byte, error) {
	t.Helper()
	var pt []byte
	err := s.View(context.Background(), func(tx storage.Tx) error {
		var err error
		pt, err = kr.OpenVersion(context.Background(), tx, ct, envelope.VersionAD(project, secretID, rev))
		return err
	})
	return pt, err
}

func mustOpen(t testing.TB, kr *Keyring, s storage.Store, project string, rev uint32, ct, want []byte) {
	t.Helper()
	pt, err := openIn(t, kr, s, project, rev, ct)
	if err != nil {
		t.Fatalf("OpenVersion: %v", err)
	}
	if !bytes.Equal(pt, want) {
		t.Fatalf("OpenVersion = %q, want %q", pt, want)
	}
}

func header(t testing.TB, ct []byte) (string, uint32) {
	t.Helper()
	id, v, err := envelope.ParseHeader(ct)
	if err != nil {
		t.Fatal(err)
	}
	return id, v
}

func TestOpenNewStore(t *testing.T) {
	s := newMemStore()
	root := newRoot(t)
	openKeyring(t, s, root)

	check, ok := s.Meta(CheckMeta)
	if !ok {
		t.Fatal("Open did not write the root key check")
	}
	if s.Calls("Update") != 1 || s.Calls("PutMeta") != 1 {
		t.Fatalf("Open made %d updates and %d meta writes, want 1 and 1", s.Calls("Update"), s.Calls("PutMeta"))
	}
	if bytes.Contains(check, []byte(checkValue)) {
		t.Fatal("the check value is stored in clear")
	}
	if err := verifyCheck(root, check); err != nil {
		t.Fatalf("the stored check does not verify: %v", err)
	}
}

func TestOpenSameRoot(t *testing.T) {
	s := newMemStore()
	root := newRoot(t)
	openKeyring(t, s, root)
	before, _ := s.Meta(CheckMeta)
	s.Reset()

	openKeyring(t, s, root)
	if n := s.Calls("Update"); n != 0 {
		t.Fatalf("reopening made %d updates, want 0", n)
	}
	if after, _ := s.Meta(CheckMeta); !bytes.Equal(before, after) {
		t.Fatal("reopening changed the check")
	}
}

func TestOpenWrongRoot(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	ct := sealIn(t, kr, s, projectA, "", 1, []byte("value"))
	before, _ := s.Meta(CheckMeta)
	s.Reset()

	_, err := Open(context.Background(), s, newRoot(t), clock)
	if !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("Open with another root: err = %v, want ErrWrongRootKey", err)
	}
	for _, want := range []string{"root key does not match this data directory", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	for _, m := range []string{"Update", "PutMeta", "CreateKey", "CreateKeyVersion"} {
		if n := s.Calls(m); n != 0 {
			t.Errorf("Open with another root called %s %d times, want 0", m, n)
		}
	}
	if after, _ := s.Meta(CheckMeta); !bytes.Equal(before, after) {
		t.Fatal("Open with another root changed the check")
	}
	// The data is untouched and still opens with the right root.
	mustOpen(t, kr, s, projectA, 1, ct, []byte("value"))
}

func TestOpenDamagedCheck(t *testing.T) {
	for name, check := range map[string][]byte{
		"truncated": []byte("short"),
		"empty":     {},
	} {
		t.Run(name, func(t *testing.T) {
			s := newMemStore()
			s.edit(func(d *memData) { d.meta[CheckMeta] = check })
			_, err := Open(context.Background(), s, newRoot(t), clock)
			if err == nil || errors.Is(err, ErrWrongRootKey) || !strings.Contains(err.Error(), "damaged") {
				t.Fatalf("err = %v, want a damaged check error", err)
			}
			if n := s.Calls("Update"); n != 0 {
				t.Fatalf("Open made %d updates, want 0", n)
			}
		})
	}

	// A check wrapped by this root but holding another value.
	s := newMemStore()
	root := newRoot(t)
	other, _ := root.Wrap([]byte("something else"), checkAD())
	s.edit(func(d *memData) { d.meta[CheckMeta] = other })
	if _, err := Open(context.Background(), s, root, clock); err == nil || errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("err = %v, want an unknown check error", err)
	}
	// A value the root wrapped for another purpose is not a check.
	s = newMemStore()
	cred, _ := root.Wrap([]byte(checkValue), credentialAD(nil))
	s.edit(func(d *memData) { d.meta[CheckMeta] = cred })
	if _, err := Open(context.Background(), s, root, clock); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("err = %v, want ErrWrongRootKey", err)
	}
}

func TestOpenStoreError(t *testing.T) {
	s := newMemStore()
	boom := errors.New("disk on fire")
	s.fail["View"] = boom
	if _, err := Open(context.Background(), s, newRoot(t), clock); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if n := s.Calls("Update"); n != 0 {
		t.Fatalf("Open made %d updates after a failed read, want 0", n)
	}
}

// TestOpenConcurrentInit covers a new store that another node initializes
// between Open's read and its write.
func TestOpenConcurrentInit(t *testing.T) {
	otherRoot, root := newRoot(t), newRoot(t)
	for name, tt := range map[string]struct {
		by      *seal.Root
		wantErr error
	}{
		"same root":    {root, nil},
		"another root": {otherRoot, ErrWrongRootKey},
	} {
		t.Run(name, func(t *testing.T) {
			s := newMemStore()
			var check []byte
			s.beforeUpdate = func(d *memData) {
				check, _ = tt.by.Wrap([]byte(checkValue), checkAD())
				d.meta[CheckMeta] = check
			}
			_, err := Open(context.Background(), s, root, clock)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n := s.Calls("PutMeta"); n != 0 {
				t.Fatalf("Open overwrote the other node's check (%d writes)", n)
			}
			if got, _ := s.Meta(CheckMeta); !bytes.Equal(got, check) {
				t.Fatal("the check changed")
			}
		})
	}
}

// TestStoreErrors checks that every storage error reaches the caller,
// matchable with errors.Is.
func TestStoreErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	ctx := context.Background()

	for _, m := range []string{"GetMeta", "PutMeta", "Update"} {
		s := newMemStore()
		if m == "GetMeta" {
			// Fail only inside Update: the first read succeeds.
			s.beforeUpdate = func(*memData) { s.fail["GetMeta"] = boom }
		} else {
			s.fail[m] = boom
		}
		if _, err := Open(ctx, s, newRoot(t), clock); !errors.Is(err, boom) {
			t.Errorf("Open with %s failing: err = %v, want %v", m, err, boom)
		}
	}

	for _, m := range []string{"GetDefaultKey", "CreateKey", "CreateKeyVersion", "LatestKeyVersion"} {
		s := newMemStore()
		kr := openKeyring(t, s, newRoot(t))
		for _, e := range []error{boom, storage.ErrConflict} {
			s.fail[m] = e
			err := s.Update(ctx, func(tx storage.Tx) error {
				_, err := kr.SealVersion(ctx, tx, projectA, "", []byte("x"), nil)
				return err
			})
			if !errors.Is(err, e) {
				t.Errorf("SealVersion with %s failing: err = %v, want %v", m, err, e)
			}
		}
	}

	root := newRoot(t)
	s := newMemStore()
	ct := sealIn(t, openKeyring(t, s, root), s, projectA, "", 1, []byte("x"))
	keyID, _ := header(t, ct)
	ops := map[string]func(kr *Keyring) error{
		"OpenVersion": func(kr *Keyring) error { _, err := openIn(t, kr, s, projectA, 1, ct); return err },
		"Rotate":      func(kr *Keyring) error { _, err := kr.Rotate(ctx, s, keyID); return err },
		"SealVersion": func(kr *Keyring) error {
			return s.Update(ctx, func(tx storage.Tx) error {
				_, err := kr.SealVersion(ctx, tx, projectA, keyID, nil, nil)
				return err
			})
		},
	}
	for _, m := range []string{"GetKey", "GetKeyVersion", "LatestKeyVersion", "CreateKeyVersion", "Update"} {
		for name, op := range ops {
			cold := openKeyring(t, s, root)
			s.Reset()
			s.fail = map[string]error{m: boom}
			err := op(cold)
			s.fail = map[string]error{}
			if s.Calls(m) > 0 && !errors.Is(err, boom) {
				t.Errorf("%s with %s failing: err = %v, want %v", name, m, err, boom)
			}
		}
	}
}

func TestSealOpenVersion(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	pt := []byte(`{"password":"hunter2"}`)
	ct := sealIn(t, kr, s, projectA, "", 1, pt)
	if bytes.Contains(ct, pt) {
		t.Fatal("ciphertext holds the plaintext")
	}

	var key *storage.Key
	_ = s.View(context.Background(), func(tx storage.Tx) error {
		var err error
		key, err = tx.GetDefaultKey(context.Background(), projectA)
		return err
	})
	if key == nil || key.Name != DefaultKeyName || !key.Default || key.ProjectID != projectA || !key.CreatedAt.Equal(epoch) {
		t.Fatalf("default key = %+v", key)
	}
	if id, v := header(t, ct); id != key.ID || v != 1 {
		t.Fatalf("ciphertext names key %s version %d, want %s version 1", id, v, key.ID)
	}
	mustOpen(t, kr, s, projectA, 1, ct, pt)

	// A keyring with a cold cache opens it from storage alone.
	mustOpen(t, openKeyring(t, s, kr.root), s, projectA, 1, ct, pt)
}

func TestEnsureDefaultKey(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	var a, b, c *storage.Key
	err := s.Update(context.Background(), func(tx storage.Tx) error {
		var err error
		if a, err = kr.EnsureDefaultKey(context.Background(), tx, projectA); err != nil {
			return err
		}
		if b, err = kr.EnsureDefaultKey(context.Background(), tx, projectA); err != nil {
			return err
		}
		c, err = kr.EnsureDefaultKey(context.Background(), tx, projectB)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID {
		t.Fatalf("two default keys for one project: %s, %s", a.ID, b.ID)
	}
	if a.ID == c.ID {
		t.Fatal("two projects share a default key")
	}
	if n := s.Calls("CreateKey"); n != 2 {
		t.Fatalf("CreateKey called %d times, want 2", n)
	}
	_ = s.View(context.Background(), func(tx storage.Tx) error {
		v, err := tx.LatestKeyVersion(context.Background(), a.ID)
		if err != nil || v.Version != 1 || !v.CreatedAt.Equal(epoch) || len(v.Wrapped) != envelope.KeySize+envelope.Overhead {
			t.Fatalf("version of the default key = %+v, %v", v, err)
		}
		return nil
	})
	if _, err := kr.EnsureDefaultKey(context.Background(), s.readTx(), ""); err == nil {
		t.Fatal("EnsureDefaultKey accepted an empty project id")
	}
}

func TestOpenVersionOtherRow(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	ct := sealIn(t, kr, s, projectA, "", 2, []byte("value"))

	for name, ad := range map[string][]byte{
		"other revision": envelope.VersionAD(projectA, secretID, 3),
		"other secret":   envelope.VersionAD(projectA, projectB, 2),
		"other project":  envelope.VersionAD(projectB, secretID, 2),
		"no ad":          nil,
	} {
		err := s.View(context.Background(), func(tx storage.Tx) error {
			_, err := kr.OpenVersion(context.Background(), tx, ct, ad)
			return err
		})
		if !errors.Is(err, envelope.ErrIntegrity) {
			t.Errorf("%s: err = %v, want envelope.ErrIntegrity", name, err)
		}
	}

	_, err := openIn(t, kr, s, projectA, 2, ct[:10])
	if !errors.Is(err, envelope.ErrMalformed) {
		t.Errorf("truncated: err = %v, want envelope.ErrMalformed", err)
	}
}

func TestOpenVersionUnknownKey(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	ct := sealIn(t, kr, s, projectA, "", 1, []byte("value"))

	// Another store with the same root has no such key.
	other := newMemStore()
	kr2 := openKeyring(t, other, kr.root)
	if _, err := openIn(t, kr2, other, projectA, 1, ct); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("err = %v, want storage.ErrNotFound", err)
	}
}

func TestSealVersionExplicitKey(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	ctA := sealIn(t, kr, s, projectA, "", 1, []byte("a"))
	keyA, _ := header(t, ctA)

	ct := sealIn(t, kr, s, projectA, keyA, 2, []byte("b"))
	if id, _ := header(t, ct); id != keyA {
		t.Fatalf("sealed under %s, want %s", id, keyA)
	}
	mustOpen(t, kr, s, projectA, 2, ct, []byte("b"))

	for name, tt := range map[string]struct{ project, keyID string }{
		"key of another project": {projectB, keyA},
		"unknown key":            {projectA, "44444444-4444-4444-8444-444444444444"},
	} {
		// A cold keyring and a warm one answer alike.
		for _, k := range []*Keyring{kr, openKeyring(t, s, kr.root)} {
			err := s.Update(context.Background(), func(tx storage.Tx) error {
				_, err := k.SealVersion(context.Background(), tx, tt.project, tt.keyID, []byte("x"), nil)
				return err
			})
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: err = %v, want storage.ErrNotFound", name, err)
			}
		}
	}
}

func TestRotate(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	old := sealIn(t, kr, s, projectA, "", 1, []byte("old"))
	keyID, _ := header(t, old)

	v, err := kr.Rotate(context.Background(), s, keyID)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if v.KeyID != keyID || v.Version != 2 || !v.CreatedAt.Equal(epoch) {
		t.Fatalf("Rotate = %+v, want version 2 of %s", v, keyID)
	}
	fresh := sealIn(t, kr, s, projectA, "", 2, []byte("new"))
	if id, n := header(t, fresh); id != keyID || n != 2 {
		t.Fatalf("after rotation, sealed under %s version %d, want version 2", id, n)
	}
	mustOpen(t, kr, s, projectA, 1, old, []byte("old"))
	mustOpen(t, kr, s, projectA, 2, fresh, []byte("new"))

	// Both versions were stored correctly: a cold keyring opens both.
	cold := openKeyring(t, s, kr.root)
	mustOpen(t, cold, s, projectA, 1, old, []byte("old"))
	mustOpen(t, cold, s, projectA, 2, fresh, []byte("new"))

	// Another node's keyring, warm on version 1, seals under version 3 as
	// soon as this one rotates again.
	if _, err := kr.Rotate(context.Background(), s, keyID); err != nil {
		t.Fatal(err)
	}
	if _, n := header(t, sealIn(t, cold, s, projectA, "", 3, []byte("x"))); n != 3 {
		t.Fatalf("a warm keyring sealed under version %d after another rotated to 3", n)
	}

	if _, err := kr.Rotate(context.Background(), s, "44444444-4444-4444-8444-444444444444"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Rotate(unknown key): err = %v, want storage.ErrNotFound", err)
	}
}

func TestRewrap(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	ct := sealIn(t, kr, s, projectA, "", 1, []byte("value"))
	keyID, _ := header(t, ct)
	ad := envelope.VersionAD(projectA, secretID, 1)

	// Already on the latest version: nothing to do.
	var same []byte
	_ = s.View(context.Background(), func(tx storage.Tx) (err error) {
		same, err = kr.Rewrap(context.Background(), tx, ct, ad)
		return err
	})
	if !bytes.Equal(same, ct) {
		t.Fatal("Rewrap changed a ciphertext already on the latest version")
	}

	if _, err := kr.Rotate(context.Background(), s, keyID); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*Keyring{kr, openKeyring(t, s, kr.root)} { // warm and cold
		var re []byte
		err := s.View(context.Background(), func(tx storage.Tx) (err error) {
			re, err = k.Rewrap(context.Background(), tx, ct, ad)
			return err
		})
		if err != nil {
			t.Fatalf("Rewrap: %v", err)
		}
		if id, v := header(t, re); id != keyID || v != 2 {
			t.Fatalf("rewrapped under %s version %d, want version 2", id, v)
		}
		if !bytes.Equal(re[envelope.DataOverhead-envelope.Overhead:], ct[envelope.DataOverhead-envelope.Overhead:]) {
			t.Fatal("Rewrap changed the sealed data")
		}
		mustOpen(t, k, s, projectA, 1, re, []byte("value"))

		err = s.View(context.Background(), func(tx storage.Tx) error {
			_, err := k.Rewrap(context.Background(), tx, ct, envelope.VersionAD(projectA, secretID, 2))
			return err
		})
		if !errors.Is(err, envelope.ErrIntegrity) {
			t.Fatalf("Rewrap with another row's ad: err = %v, want envelope.ErrIntegrity", err)
		}
	}
}

// TestRollbackLeavesNoKey checks that a default key created in a transaction
// that rolls back is never used afterwards: data sealed under it would name
// a key that does not exist.
func TestRollbackLeavesNoKey(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	abort := errors.New("abort")
	var rolledBack string
	err := s.Update(context.Background(), func(tx storage.Tx) error {
		ct, err := kr.SealVersion(context.Background(), tx, projectA, "", []byte("x"), nil)
		if err != nil {
			return err
		}
		rolledBack, _ = header(t, ct)
		return abort
	})
	if !errors.Is(err, abort) {
		t.Fatal(err)
	}

	ct := sealIn(t, kr, s, projectA, "", 1, []byte("value"))
	if id, _ := header(t, ct); id == rolledBack {
		t.Fatal("sealed under a key whose creation was rolled back")
	}
	mustOpen(t, openKeyring(t, s, kr.root), s, projectA, 1, ct, []byte("value"))
}

// TestTamperedKeyRows checks that key rows bound to the wrong key, version or
// project do not open: a stolen or edited database cannot move keys around.
func TestTamperedKeyRows(t *testing.T) {
	s := newMemStore()
	root := newRoot(t)
	kr := openKeyring(t, s, root)
	ctA := sealIn(t, kr, s, projectA, "", 1, []byte("a"))
	keyA, _ := header(t, ctA)
	if _, err := kr.Rotate(context.Background(), s, keyA); err != nil {
		t.Fatal(err)
	}
	ctA2 := sealIn(t, kr, s, projectA, "", 1, []byte("a2"))
	ctB := sealIn(t, kr, s, projectB, "", 1, []byte("b"))
	keyB, _ := header(t, ctB)

	tests := map[string]struct {
		edit func(d *memData)
		ct   []byte
	}{
		"key moved to another project": {func(d *memData) {
			k := d.keys[keyA]
			k.ProjectID = projectB
			d.keys[keyA] = k
		}, ctA},
		"versions swapped": {func(d *memData) {
			v1, v2 := d.versions[versionRef{keyA, 1}], d.versions[versionRef{keyA, 2}]
			v1.Wrapped, v2.Wrapped = v2.Wrapped, v1.Wrapped
			d.versions[versionRef{keyA, 1}], d.versions[versionRef{keyA, 2}] = v1, v2
		}, ctA2},
		"version of another key": {func(d *memData) {
			v := d.versions[versionRef{keyA, 1}]
			v.Wrapped = d.versions[versionRef{keyB, 1}].Wrapped
			d.versions[versionRef{keyA, 1}] = v
		}, ctA},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			saved := func() *memData { s.mu.Lock(); defer s.mu.Unlock(); return s.data.clone() }()
			defer s.edit(func(d *memData) { *d = *saved })
			s.edit(tt.edit)
			_, err := openIn(t, openKeyring(t, s, root), s, projectA, 1, tt.ct)
			if !errors.Is(err, envelope.ErrIntegrity) {
				t.Fatalf("err = %v, want envelope.ErrIntegrity", err)
			}
		})
	}
}

// TestWarmPathReads checks what the hot paths read from storage once the
// key versions are cached.
func TestWarmPathReads(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	ct := sealIn(t, kr, s, projectA, "", 1, []byte("value"))
	keyID, _ := header(t, ct)
	mustOpen(t, kr, s, projectA, 1, ct, []byte("value"))

	s.Reset()
	const n = 10
	for range n {
		mustOpen(t, kr, s, projectA, 1, ct, []byte("value"))
	}
	for _, m := range []string{"GetKey", "GetDefaultKey", "GetKeyVersion", "LatestKeyVersion", "GetMeta"} {
		if c := s.Calls(m); c != 0 {
			t.Errorf("warm OpenVersion called %s %d times, want 0", m, c)
		}
	}

	s.Reset()
	for range n {
		sealIn(t, kr, s, projectA, "", 1, []byte("value"))
	}
	want := map[string]int{"GetDefaultKey": n, "LatestKeyVersion": n, "GetKey": 0, "GetKeyVersion": 0, "CreateKey": 0, "CreateKeyVersion": 0}
	for m, w := range want {
		if c := s.Calls(m); c != w {
			t.Errorf("warm SealVersion (default key) called %s %d times, want %d", m, c, w)
		}
	}

	s.Reset()
	for range n {
		sealIn(t, kr, s, projectA, keyID, 1, []byte("value"))
	}
	want = map[string]int{"GetDefaultKey": 0, "LatestKeyVersion": n, "GetKey": 0, "GetKeyVersion": 0}
	for m, w := range want {
		if c := s.Calls(m); c != w {
			t.Errorf("warm SealVersion (explicit key) called %s %d times, want %d", m, c, w)
		}
	}
}

func TestCredential(t *testing.T) {
	s := newMemStore()
	root := newRoot(t)
	kr := openKeyring(t, s, root)
	ad := []byte("SCWAAAAAAAAAAAAAAAAA")
	secret := []byte("6b1a7a84-9f0e-4a43-9c4e-6cf0fe4a8a1d")
	ct, err := kr.SealCredential(secret, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, secret) {
		t.Fatal("sealed credential holds the secret")
	}
	if pt, err := kr.OpenCredential(ct, ad); err != nil || !bytes.Equal(pt, secret) {
		t.Fatalf("OpenCredential = %q, %v", pt, err)
	}
	if _, err := kr.OpenCredential(ct, []byte("SCWBBBBBBBBBBBBBBBBB")); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("OpenCredential with another ad: err = %v, want envelope.ErrIntegrity", err)
	}
	// Purpose separation: the same root and ad outside the credential
	// purpose do not open it, and a credential is not a key version.
	if _, err := root.Unwrap(ct, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("root.Unwrap without the purpose: err = %v, want envelope.ErrIntegrity", err)
	}
	wrapped, _ := root.Wrap(secret, ad)
	if _, err := kr.OpenCredential(wrapped, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("OpenCredential of a value wrapped for another purpose: err = %v, want envelope.ErrIntegrity", err)
	}
}

func TestClose(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	ct := sealIn(t, kr, s, projectA, "", 1, []byte("value"))
	keyID, _ := header(t, ct)
	cred, _ := kr.SealCredential([]byte("c"), nil)

	if err := kr.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	kr.keks.Range(func(any, any) bool { n++; return true })
	kr.projects.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Fatalf("Close left %d cache entries", n)
	}

	tx := s.readTx()
	ctx := context.Background()
	calls := map[string]func() error{
		"EnsureDefaultKey": func() error { _, err := kr.EnsureDefaultKey(ctx, tx, projectA); return err },
		"SealVersion":      func() error { _, err := kr.SealVersion(ctx, tx, projectA, "", nil, nil); return err },
		"OpenVersion":      func() error { _, err := kr.OpenVersion(ctx, tx, ct, nil); return err },
		"Rotate":           func() error { _, err := kr.Rotate(ctx, s, keyID); return err },
		"Rewrap":           func() error { _, err := kr.Rewrap(ctx, tx, ct, nil); return err },
		"SealCredential":   func() error { _, err := kr.SealCredential(nil, nil); return err },
		"OpenCredential":   func() error { _, err := kr.OpenCredential(cred, nil); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
	if err := kr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestConcurrent seals, opens and rotates from several goroutines; run with
// -race.
func TestConcurrent(t *testing.T) {
	s := newMemStore()
	kr := openKeyring(t, s, newRoot(t))
	ct := sealIn(t, kr, s, projectA, "", 1, []byte("value"))
	keyID, _ := header(t, ct)
	ctx := context.Background()
	ad := envelope.VersionAD(projectA, secretID, 1)

	round := func(rotate bool) error {
		if rotate {
			if _, err := kr.Rotate(ctx, s, keyID); err != nil {
				return err
			}
		}
		var c []byte
		err := s.Update(ctx, func(tx storage.Tx) (err error) {
			c, err = kr.SealVersion(ctx, tx, projectA, "", []byte("v"), ad)
			return err
		})
		if err != nil {
			return err
		}
		return s.View(ctx, func(tx storage.Tx) error {
			for _, x := range [][]byte{c, ct} {
				if _, err := kr.OpenVersion(ctx, tx, x, ad); err != nil {
					return err
				}
			}
			return nil
		})
	}

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				if err := round(g == 0 && i%5 == 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkSealVersion(b *testing.B) {
	s := newMemStore()
	kr := openKeyring(b, s, newRoot(b))
	sealIn(b, kr, s, projectA, "", 1, nil) // create and cache the default key
	tx, ctx := s.readTx(), context.Background()
	pt, ad := make([]byte, 1024), envelope.VersionAD(projectA, secretID, 1)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.SealVersion(ctx, tx, projectA, "", pt, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenVersion(b *testing.B) {
	s := newMemStore()
	kr := openKeyring(b, s, newRoot(b))
	ct := sealIn(b, kr, s, projectA, "", 1, make([]byte, 1024))
	tx, ctx := s.readTx(), context.Background()
	ad := envelope.VersionAD(projectA, secretID, 1)
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.OpenVersion(ctx, tx, ct, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenVersionParallel(b *testing.B) {
	s := newMemStore()
	kr := openKeyring(b, s, newRoot(b))
	ct := sealIn(b, kr, s, projectA, "", 1, make([]byte, 1024))
	tx, ctx := s.readTx(), context.Background()
	ad := envelope.VersionAD(projectA, secretID, 1)
	b.SetBytes(1024)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := kr.OpenVersion(ctx, tx, ct, ad); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
