package node_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// secondNodeEnv names the data directory the helper process opens a node on.
const secondNodeEnv = "COFFER_TEST_SECOND_NODE_DIR"

// TestSecondNodeHelper is the second process of TestSQLiteSecondProcess.
func TestSecondNodeHelper(t *testing.T) {
	dir := os.Getenv(secondNodeEnv)
	if dir == "" {
		t.Skip("only run as the second process of TestSQLiteSecondProcess")
	}
	n, err := node.Open(context.Background(), node.Config{DataDir: dir, RootKey: os.Getenv("COFFER_ROOT_KEY")})
	if err != nil {
		if errors.Is(err, node.ErrDataDirLocked) {
			os.Stdout.WriteString("LOCKED: " + err.Error() + "\n")
		}
		t.Fatal(err)
	}
	n.Close(context.Background())
	os.Stdout.WriteString("OPENED\n")
}

// TestSQLiteSecondProcess: a node serving SQLite keeps its data directory
// to itself, since its read cache would not see another process's writes:
// a second node, in another process or in the same, is refused with a
// clear error, while the offline audit check, which writes nothing, still
// reads the store. Once the first node stops, a node starts there again.
func TestSQLiteSecondProcess(t *testing.T) {
	if nodetest.Backend() != "sqlite" {
		t.Skip("a SQLite test")
	}
	first := nodetest.Start(t)
	second := func() string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestSecondNodeHelper$", "-test.v")
		cmd.Env = append(os.Environ(), secondNodeEnv+"="+first.DataDir, "COFFER_ROOT_KEY="+first.RootKey)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := second(); !strings.Contains(out, "LOCKED: another coffer process serves this data directory") ||
		!strings.Contains(out, node.LockFile) {
		t.Fatalf("a second process on the data directory of a running node:\n%s", out)
	}
	_, err := node.Open(context.Background(), node.Config{DataDir: first.DataDir, RootKey: first.RootKey})
	if !errors.Is(err, node.ErrDataDirLocked) {
		t.Fatalf("a second node in the same process: %v, want ErrDataDirLocked", err)
	}
	if _, err := node.VerifyAudit(context.Background(), node.Config{DataDir: first.DataDir}, nil); err != nil {
		t.Errorf("offline audit verification beside a running node: %v", err)
	}
	first.Stop(t)
	if out := second(); !strings.Contains(out, "OPENED") {
		t.Fatalf("a node on the data directory of a stopped node:\n%s", out)
	}
}
