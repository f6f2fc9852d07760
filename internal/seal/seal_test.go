package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
)

// randomKeyText returns the text form of a fresh key and the key itself.
func randomKeyText(t *testing.T) (string, []byte) {
	t.Helper()
	raw := make([]byte, KeySize)
	_, _ = rand.Read(raw)
	return base64.StdEncoding.EncodeToString(raw), raw
}

// rootFromRaw returns a Root made from a copy of raw.
func rootFromRaw(t *testing.T, raw []byte) *Root {
	t.Helper()
	r, err := newRoot(bytes.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sameKey fails the test unless a and b hold the same key.
func sameKey(t *testing.T, a, b *Root) {
	t.Helper()
	ad := []byte("test")
	ct, err := a.Wrap([]byte("probe"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := b.Unwrap(ct, ad); err != nil || string(pt) != "probe" {
		t.Fatalf("the two roots hold different keys: %q, %v", pt, err)
	}
}

// writeKeyFile writes content to a new file with mode perm.
func writeKeyFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // undo the umask
		t.Fatal(err)
	}
}

// checkNoSecret fails the test if err's message holds any part of text long
// enough to matter.
func checkNoSecret(t *testing.T, err error, text string) {
	t.Helper()
	msg := err.Error()
	for i := 0; i+8 <= len(text); i++ {
		if strings.Contains(msg, text[i:i+8]) {
			t.Fatalf("error %q holds part of the key text", msg)
		}
	}
}

func TestLoadCreatesKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	r, info, err := Load(Config{KeyFile: path})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer r.Close()
	if want := (Info{Source: SourceFile, Path: path, Created: true}); info != want {
		t.Fatalf("Info = %+v, want %+v", info, want)
	}

	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %s, want -rw-------", fi.Mode())
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(content) != encodedSize+1 || content[encodedSize] != '\n' {
		t.Fatalf("key file holds %d bytes, want %d and a newline", len(content), encodedSize+1)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(string(content[:encodedSize]))
	if err != nil || len(raw) != KeySize {
		t.Fatalf("key file does not hold a base64 key: %d bytes, %v", len(raw), err)
	}
	if bytes.Equal(raw, make([]byte, KeySize)) {
		t.Fatal("created key is all zeros")
	}
	sameKey(t, r, rootFromRaw(t, raw))

	// Reloading finds the same key and creates nothing.
	r2, info2, err := Load(Config{KeyFile: path})
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	defer r2.Close()
	if want := (Info{Source: SourceFile, Path: path}); info2 != want {
		t.Fatalf("reload Info = %+v, want %+v", info2, want)
	}
	sameKey(t, r, r2)
	sameKey(t, r2, r)
}

func TestLoadCreatesDistinctKeys(t *testing.T) {
	a, _, err := Load(Config{KeyFile: filepath.Join(t.TempDir(), "root.key")})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Load(Config{KeyFile: filepath.Join(t.TempDir(), "root.key")})
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := a.Wrap([]byte("x"), nil)
	if _, err := b.Unwrap(ct, nil); !errors.Is(err, envelope.ErrIntegrity) {
		t.Fatalf("two created keys agree: err = %v", err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	text, raw := randomKeyText(t)
	for name, content := range map[string]string{
		"no newline":    text,
		"newline":       text + "\n",
		"CRLF":          text + "\r\n",
		"carriage only": text + "\r",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.key")
			writeKeyFile(t, path, content, 0o600)
			r, info, err := Load(Config{KeyFile: path})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if want := (Info{Source: SourceFile, Path: path}); info != want {
				t.Fatalf("Info = %+v, want %+v", info, want)
			}
			sameKey(t, r, rootFromRaw(t, raw))
		})
	}
	// Owner-only read is enough.
	path := filepath.Join(t.TempDir(), "root.key")
	writeKeyFile(t, path, text, 0o400)
	if _, _, err := Load(Config{KeyFile: path}); err != nil {
		t.Fatalf("Load(0400): %v", err)
	}
}

func TestLoadKeyFileInvalid(t *testing.T) {
	text, _ := randomKeyText(t)
	short := base64.StdEncoding.EncodeToString(make([]byte, KeySize-1))
	long := base64.StdEncoding.EncodeToString(make([]byte, KeySize+1))
	for name, content := range map[string]string{
		"empty":          "",
		"newline only":   "\n",
		"two newlines":   text + "\n\n",
		"leading space":  " " + text,
		"trailing space": text + " ",
		"31 bytes":       short,
		"33 bytes":       long,
		"no padding":     strings.TrimRight(text, "="),
		"url alphabet":   strings.NewReplacer("+", "-", "/", "_").Replace(text[:43]) + "-",
		"not base64":     strings.Repeat("!", encodedSize),
		"non-zero pad":   text[:42] + "B=",
		"too large":      strings.Repeat(text+"\n", 4),
		"raw bytes":      string(make([]byte, KeySize)),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.key")
			writeKeyFile(t, path, content, 0o600)
			_, _, err := Load(Config{KeyFile: path})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			checkNoSecret(t, err, content)
		})
	}
}

func TestLoadKeyFilePermissive(t *testing.T) {
	text, _ := randomKeyText(t)
	for _, perm := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o620, 0o602, 0o610, 0o601, 0o666, 0o700, 0o777} {
		t.Run(fmt.Sprintf("%#o", perm), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.key")
			writeKeyFile(t, path, text, perm)
			_, _, err := Load(Config{KeyFile: path})
			if perm&0o077 == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "too open") || !strings.Contains(err.Error(), "chmod 600 "+path) {
				t.Fatalf("err = %v, want a refusal that says to chmod 600", err)
			}
			// Nothing was changed.
			if fi, _ := os.Stat(path); fi.Mode().Perm() != perm {
				t.Fatalf("mode changed to %s", fi.Mode())
			}
		})
	}
}

func TestLoadKeyFileSymlink(t *testing.T) {
	dir := t.TempDir()
	text, _ := randomKeyText(t)
	target := filepath.Join(dir, "real.key")
	writeKeyFile(t, target, text, 0o600)
	link := filepath.Join(dir, "root.key")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	_, _, err := Load(Config{KeyFile: link})
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("err = %v, want a refusal of the link", err)
	}

	// A dangling link is not replaced by a new key file either.
	dangling := filepath.Join(dir, "dangling.key")
	if err := os.Symlink(filepath.Join(dir, "missing"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(Config{KeyFile: dangling}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("dangling link: err = %v, want a refusal of the link", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Load created the target of a dangling link")
	}
}

func TestLoadKeyFileNotRegular(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(Config{KeyFile: path}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v, want a refusal of the directory", err)
	}
}

// TestCreateFileExisting covers the race where another process creates the
// key file between Lstat and create: createFile must fail with fs.ErrExist
// and leave that file alone, so that Load reads it instead.
func TestCreateFileExisting(t *testing.T) {
	text, raw := randomKeyText(t)
	path := filepath.Join(t.TempDir(), "root.key")
	writeKeyFile(t, path, text+"\n", 0o600)
	if _, err := createFile(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("createFile(existing): err = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != text+"\n" {
		t.Fatal("createFile changed an existing key file")
	}
	r, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, r, rootFromRaw(t, raw))
}

func TestLoadKeyFileMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "root.key")
	if _, _, err := Load(Config{KeyFile: path}); err == nil {
		t.Fatal("Load succeeded, want an error")
	}
}

func TestLoadEnv(t *testing.T) {
	text, raw := randomKeyText(t)
	path := filepath.Join(t.TempDir(), "root.key")
	r, info, err := Load(Config{EnvKey: text, KeyFile: path})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := (Info{Source: SourceEnv}); info != want {
		t.Fatalf("Info = %+v, want %+v", info, want)
	}
	sameKey(t, r, rootFromRaw(t, raw))
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load touched the key file although the key came from the environment: %v", err)
	}

	// The same text gives the same key from a file.
	writeKeyFile(t, path, text+"\n", 0o600)
	fromFile, _, err := Load(Config{KeyFile: path})
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, r, fromFile)
}

func TestLoadEnvInvalid(t *testing.T) {
	text, _ := randomKeyText(t)
	for name, value := range map[string]string{
		"31 bytes":        base64.StdEncoding.EncodeToString(make([]byte, KeySize-1)),
		"33 bytes":        base64.StdEncoding.EncodeToString(make([]byte, KeySize+1)),
		"16 bytes":        base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"64 bytes":        base64.StdEncoding.EncodeToString(make([]byte, 64)),
		"no padding":      strings.TrimRight(text, "="),
		"trailing NL":     text + "\n",
		"inner NL":        text[:20] + "\n" + text[21:],
		"url alphabet":    strings.NewReplacer("+", "-", "/", "_").Replace(text[:43]) + "_",
		"hex":             strings.Repeat("ab", KeySize),
		"not base64":      strings.Repeat("*", encodedSize),
		"non-zero pad":    text[:42] + "B=",
		"raw 32 bytes":    strings.Repeat("k", KeySize),
		"padding as data": strings.Repeat("=", encodedSize),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Load(Config{EnvKey: value, KeyFile: filepath.Join(t.TempDir(), "root.key")})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), "COFFER_ROOT_KEY") {
				t.Errorf("error %q does not name COFFER_ROOT_KEY", err)
			}
			checkNoSecret(t, err, value)
		})
	}
}

func TestLoadNoSource(t *testing.T) {
	if _, _, err := Load(Config{}); err == nil {
		t.Fatal("Load(Config{}) succeeded, want an error")
	}
}

func TestRootWrapUnwrap(t *testing.T) {
	text, _ := randomKeyText(t)
	r, _, err := Load(Config{EnvKey: text})
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("purpose")
	ct, err := r.Wrap([]byte("value"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := r.Unwrap(ct, ad); err != nil || string(pt) != "value" {
		t.Fatalf("Unwrap = %q, %v", pt, err)
	}
	if _, err := r.Unwrap(ct, []byte("other")); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Unwrap with another ad: err = %v, want ErrIntegrity", err)
	}
	bad := bytes.Clone(ct)
	bad[len(bad)-1] ^= 1
	if _, err := r.Unwrap(bad, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Unwrap of a tampered value: err = %v, want ErrIntegrity", err)
	}
	if _, err := r.Unwrap(ct[:5], ad); !errors.Is(err, envelope.ErrMalformed) {
		t.Errorf("Unwrap of a truncated value: err = %v, want ErrMalformed", err)
	}
	other, _ := randomKeyText(t)
	r2, _, _ := Load(Config{EnvKey: other})
	if _, err := r2.Unwrap(ct, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Unwrap with another root: err = %v, want ErrIntegrity", err)
	}
}

func TestNewRootWipesInput(t *testing.T) {
	raw := bytes.Repeat([]byte{0xa5}, KeySize)
	if _, err := newRoot(raw); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, make([]byte, KeySize)) {
		t.Fatal("newRoot left the key bytes in its input")
	}
	short := bytes.Repeat([]byte{0xa5}, KeySize-1)
	if _, err := newRoot(short); err == nil {
		t.Fatal("newRoot(31 bytes) succeeded")
	}
	if !bytes.Equal(short, make([]byte, KeySize-1)) {
		t.Fatal("newRoot left the bytes of a rejected key in its input")
	}
}

func TestRootClose(t *testing.T) {
	text, _ := randomKeyText(t)
	r, _, err := Load(Config{EnvKey: text})
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := r.Wrap([]byte("value"), nil)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r.key.Load() != nil {
		t.Fatal("Close kept a reference to the key")
	}
	if _, err := r.Wrap([]byte("value"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Wrap after Close: err = %v, want ErrClosed", err)
	}
	if _, err := r.Unwrap(ct, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Unwrap after Close: err = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestRootCloseConcurrent runs Close while other goroutines use the Root:
// under -race it checks that Close needs no caller coordination.
func TestRootCloseConcurrent(t *testing.T) {
	text, _ := randomKeyText(t)
	r, _, err := Load(Config{EnvKey: text})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				ct, err := r.Wrap([]byte("v"), nil)
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Error(err)
					}
					return
				}
				if _, err := r.Unwrap(ct, nil); err != nil && !errors.Is(err, ErrClosed) {
					t.Error(err)
				}
			}
		})
	}
	_ = r.Close()
	wg.Wait()
}

func TestRootRedacted(t *testing.T) {
	text, _ := randomKeyText(t)
	r, _, err := Load(Config{EnvKey: text})
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("msg", "root", r)
	for _, s := range []string{
		r.String(), r.GoString(), fmt.Sprint(r), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%d", r, r, r, r, r, r, r),
		fmt.Sprintf("%+v %#v", struct{ R *Root }{r}, struct{ R *Root }{r}), logged.String(),
	} {
		if !strings.Contains(s, coffer.Redacted) || strings.Contains(s, "0x") || strings.Contains(s, text[:8]) {
			t.Errorf("printed root = %q, want only %q", s, coffer.Redacted)
		}
	}
}
