//go:build unix

package seal

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLoadKeyFileOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file away")
	}
	text, _ := randomKeyText(t)
	path := filepath.Join(t.TempDir(), "root.key")
	writeKeyFile(t, path, text, 0o600)
	if err := os.Chown(path, 4242, -1); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(Config{KeyFile: path})
	if err == nil || !strings.Contains(err.Error(), "owned by uid 4242") {
		t.Fatalf("err = %v, want a refusal of a file owned by another user", err)
	}
}

func TestLoadKeyFileFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, _, err := Load(Config{KeyFile: path}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v, want a refusal of the FIFO", err)
	}
}

// TestLoadCreatesKeyFileUmask checks that the created file is exactly 0600
// whatever the umask. It changes the process umask, so it is not parallel.
func TestLoadCreatesKeyFileUmask(t *testing.T) {
	for _, mask := range []int{0o000, 0o022, 0o077, 0o277} {
		old := syscall.Umask(mask)
		path := filepath.Join(t.TempDir(), "root.key")
		_, info, err := Load(Config{KeyFile: path})
		syscall.Umask(old)
		if err != nil {
			t.Fatalf("umask %#o: Load: %v", mask, err)
		}
		if !info.Created {
			t.Fatalf("umask %#o: Created = false", mask)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("umask %#o: mode = %s, want -rw-------", mask, fi.Mode())
		}
	}
}

func TestLoadKeyFileUnreadableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := filepath.Join(t.TempDir(), "locked")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(Config{KeyFile: filepath.Join(dir, "root.key")}); err == nil {
		t.Fatal("Load created a key file in a read-only directory")
	}
}
