package node_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// syncBuffer is a log destination that several goroutines may write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestOpenDataDirWarns starts a node on an existing data directory that
// other users may read (0755): it starts, warns once with the fix, and
// leaves the mode as it was; a 0700 directory gets no warning.
func TestOpenDataDirWarns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	for _, mode := range []os.FileMode{0o755, 0o700} {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		nodetest.Start(t, nodetest.WithDataDir(dir, nodetest.NewRootKey()),
			nodetest.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
		warned := strings.Count(logs.String(), "the data directory is open to other users")
		if want := map[os.FileMode]int{0o755: 1, 0o700: 0}[mode]; warned != want {
			t.Errorf("mode %#o: %d warnings, want %d; logs:\n%s", mode, warned, want, logs)
		}
		if mode == 0o755 && !strings.Contains(logs.String(), "chmod 700 "+dir) {
			t.Errorf("mode %#o: the warning does not say how to fix it:\n%s", mode, logs)
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("mode %#o: the directory is now %v (%v)", mode, fi.Mode().Perm(), err)
		}
	}
}
