package main

import (
	"context"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// runMain runs the coffer command in-process without a server.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut strings.Builder
	dir := t.TempDir()
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(k string) string {
		if k == "COFFER_DATA_DIR" {
			return dir
		}
		return ""
	})
	return out.String(), errOut.String(), code
}

// TestProgramUsage checks what a new user tries first: --help lists every
// command, each of which has its own -h; --version prints the program's
// version, while "version" stays the command group of secret versions;
// serve -h and a flag serve does not know answer as the other commands do.
func TestProgramUsage(t *testing.T) {
	t.Parallel()
	out, _, code := runMain(t, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  coffer ([a-z]+)`).FindAllStringSubmatch(out, -1) {
		listed[m[1]] = true
	}
	commands := []string{"serve", "migrate", "secret", "version", "get", "run", "vault", "sync", "iam", "cert", "trigger", "audit", "bench", "backup", "restore", "export", "import", "operator"}
	for _, c := range commands {
		if !listed[c] {
			t.Errorf("--help does not list %q:\n%s", c, out)
		}
	}
	for c := range listed {
		if !slices.Contains(commands, c) {
			t.Errorf("--help lists %q, which this test does not know", c)
		}
		if out, errOut, code := runMain(t, c, "-h"); code != 0 || !strings.Contains(out, "Usage: coffer "+c) {
			t.Errorf("coffer %s -h: exit %d, %q %q", c, code, out, errOut)
		}
	}
	if !strings.Contains(out, "coffer --version") {
		t.Errorf("--help does not say how to print the program's version:\n%s", out)
	}

	out, _, code = runMain(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "coffer ") || !strings.Contains(out, runtime.Version()) || strings.Count(out, "\n") != 1 {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	if _, errOut, code := runMain(t, "version"); code != 2 || !strings.Contains(errOut, `missing command after "version"`) {
		t.Errorf("version without a command: exit %d, %q", code, errOut)
	}

	out, errOut, code := runMain(t, "serve", "--help")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "Usage: coffer serve [flags]") || !strings.Contains(out, "-listen") {
		t.Errorf("serve --help: exit %d, %q %q", code, out, errOut)
	}
	for _, args := range [][]string{{"serve", "--bogus"}, {"serve", "extra"}, {"migrate", "--bogus"}} {
		out, errOut, code := runMain(t, args...)
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if code != 2 || out != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], "coffer "+args[0]+": ") ||
			lines[1] != `Run "coffer `+args[0]+` -h" for its flags.` {
			t.Errorf("%v: exit %d, %q %q; want one line and a hint", args, code, out, errOut)
		}
	}
}
