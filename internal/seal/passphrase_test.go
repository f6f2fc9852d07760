package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/envelope"
)

// testKDF returns cheap parameters, within the bounds a store may hold.
func testKDF() *KDF {
	k := NewKDF()
	k.Time, k.MemoryKiB, k.Threads = 1, minArgon2Memory, 1
	return k
}

func TestLoadPassphrase(t *testing.T) {
	k := testKDF()
	pass := []byte("correct horse battery staple")
	r, info, err := Load(Config{Passphrase: pass, KDF: k, EnvKey: "ignored", KeyFile: filepath.Join(t.TempDir(), "root.key")})
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{Source: SourcePassphrase}) {
		t.Fatalf("Info = %+v", info)
	}
	// The same passphrase and parameters give the same key, after a trip
	// through the stored form.
	stored, err := DecodeKDF(k.Encode())
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := Load(Config{Passphrase: bytes.Clone(pass), KDF: stored})
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, r, again)
	// Another passphrase, or another salt, gives another key.
	other := testKDF()
	for name, c := range map[string]Config{
		"passphrase": {Passphrase: []byte("correct horse battery stapler"), KDF: k},
		"salt":       {Passphrase: pass, KDF: other},
	} {
		r2, _, err := Load(c)
		if err != nil {
			t.Fatal(err)
		}
		ct, _ := r.Wrap([]byte("x"), nil)
		if _, err := r2.Unwrap(ct, nil); !errors.Is(err, envelope.ErrIntegrity) {
			t.Errorf("another %s opens: %v", name, err)
		}
	}
	if _, _, err := Load(Config{Passphrase: []byte("short"), KDF: k}); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("short passphrase: err = %v", err)
	}
	if _, _, err := Load(Config{Passphrase: pass}); err == nil {
		t.Error("a passphrase without parameters was accepted")
	}
	if NewKDF().Time != 3 || NewKDF().MemoryKiB != 64<<10 || bytes.Equal(NewKDF().Salt, NewKDF().Salt) {
		t.Error("NewKDF: want RFC 9106's second option and a fresh salt")
	}
}

func TestDecodeKDFRefuses(t *testing.T) {
	for name, edit := range map[string]func(k *KDF){
		"algorithm":   func(k *KDF) { k.Algorithm = "scrypt" },
		"short salt":  func(k *KDF) { k.Salt = k.Salt[:8] },
		"no passes":   func(k *KDF) { k.Time = 0 },
		"many passes": func(k *KDF) { k.Time = maxArgon2Time + 1 },
		"huge memory": func(k *KDF) { k.MemoryKiB = maxArgon2Memory + 1 },
		"tiny memory": func(k *KDF) { k.MemoryKiB = 64 },
		"no lane":     func(k *KDF) { k.Threads = 0 },
	} {
		k := testKDF()
		edit(k)
		if _, err := DecodeKDF(k.Encode()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, b := range []string{"", "{", `{"algorithm":"argon2id","extra":1}`} {
		if _, err := DecodeKDF([]byte(b)); err == nil {
			t.Errorf("DecodeKDF(%q) accepted", b)
		}
	}
}

func TestReadPassphraseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "passphrase")
	writeKeyFile(t, path, "a long passphrase\n", 0o600)
	got, err := ReadPassphraseFile(path)
	if err != nil || string(got) != "a long passphrase" {
		t.Fatalf("ReadPassphraseFile = %q, %v", got, err)
	}
	open := filepath.Join(dir, "open")
	writeKeyFile(t, open, "a long passphrase", 0o644)
	if _, err := ReadPassphraseFile(open); err == nil || !strings.Contains(err.Error(), "too open") {
		t.Errorf("a file others read: err = %v", err)
	}
	big := filepath.Join(dir, "big")
	writeKeyFile(t, big, strings.Repeat("x", maxPassphraseFile+1), 0o600)
	if _, err := ReadPassphraseFile(big); err == nil {
		t.Error("a file too long was accepted")
	}
	if _, err := ReadPassphraseFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}
