package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/node"
)

// runCmd runs coffer with args and an environment.
func runCmd(env map[string]string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
	return out.String(), errOut.String(), code
}

func TestOperatorRotateRoot(t *testing.T) {
	dir := t.TempDir()
	n, err := node.Open(context.Background(), node.Config{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(filepath.Join(dir, node.RootKeyFile))
	out, errOut, code := runCmd(nil, "operator", "rotate-root", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "rotated the root key") {
		t.Fatalf("rotate-root: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, node.RootKeyFile)); bytes.Equal(now, old) || strings.Contains(out, strings.TrimSpace(string(now))) {
		t.Fatal("the key file holds the old key, or the new key was printed")
	}
	n, err = node.Open(context.Background(), node.Config{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start with the new key: %v", err)
	}
	_ = n.Close(context.Background())

	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{nil, []string{"operator", "rotate-root", "--data-dir", dir, "--seal", "env"}},
		{map[string]string{"COFFER_ROOT_KEY": "x"}, []string{"operator", "rotate-root", "--data-dir", dir}},
		{nil, []string{"operator", "rotate-root", "--data-dir", dir, "--seal", "passphrase"}},
		{nil, []string{"operator", "rotate-root", "--data-dir", dir, "--seal", "other"}},
		{nil, []string{"serve", "--data-dir", dir, "--seal", "passphrase"}},
		{nil, []string{"serve", "--data-dir", dir, "--passphrase-file", filepath.Join(dir, "p")}},
		{nil, []string{"serve", "--data-dir", dir, "--seal", "env"}},
	} {
		if _, errOut, code := runCmd(c.env, c.args...); code != 2 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", c.args, code, errOut)
		}
	}
}

func TestOperatorRotateKey(t *testing.T) {
	c, n := newCLI(t)
	c.ok("secret", "create", "--name", "rotated")
	c.ok("version", "create", "--secret", "/rotated", "--data", "kept")
	out := c.ok("operator", "rotate-key")
	mustContain(t, out, "version 2 seals new writes", "re-wrapping")
	mustContain(t, c.ok("operator", "status"), "rewrapping", "VERSION")
	mustContain(t, c.ok("operator", "status", "--json"), `"state": "rewrapping"`)
	mustContain(t, c.fail(1, "operator", "rotate-key"), "412")
	n.StartJobs()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(c.ok("operator", "status"), "complete"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the re-wrap did not complete")
		}
	}
	mustContain(t, c.ok("operator", "rotate-key", "--wait"), "complete at version 3")
	mustContain(t, c.ok("get", "/rotated"), "kept")
	c.fail(1, "operator", "rotate-key", "--key", "not-a-key")
	c.fail(2, "operator", "rotate-key", "extra")
}
