package main

import (
	"os"
	"testing"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
)

func TestRun(t *testing.T) {
	t.Parallel()
	const sh = "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		t.Skipf("no %s: %v", sh, err)
	}
	c, _ := newCLI(t)
	const password = `s3cret with spaces, "quotes" & $dollar`
	id := decode[secret.Secret](t, c.ok("secret", "create", "--name", "db", "--path", "/prod", "--type", "key_value", "--json")).ID
	c.okIn(`{"user":"app","password":"s3cret with spaces, \"quotes\" & $dollar"}`, "version", "create", "--secret", id, "--stdin")
	c.ok("secret", "create", "--name", "token")
	c.ok("version", "create", "--secret", "/token", "--data", "tok-123")
	c.ok("secret", "create", "--name", "nul")
	c.ok("version", "create", "--secret", "/nul", "--data", "a\x00b")

	run := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		return c.run(stdin, append([]string{"run"}, args...)...)
	}

	t.Run("value", func(t *testing.T) {
		out, errOut, code := run("", "--env", "DB_PASS=/prod/db#password", "--", sh, "-c", `printf %s "$DB_PASS"`)
		if out != password || errOut != "" || code != 0 {
			t.Errorf("got stdout %q, stderr %q, exit %d; want %q, nothing, 0", out, errOut, code, password)
		}
	})
	t.Run("several, and the environment", func(t *testing.T) {
		out, errOut, code := run("", "--env", "U="+id+"@1#user", "--env", "T=token", "--env", "HOME=/prod/db#user",
			sh, "-c", `printf '%s|%s|%s|%s' "$U" "$T" "$HOME" "$PATH"`)
		want := "app|tok-123|app|" + os.Getenv("PATH")
		if out != want || errOut != "" || code != 0 {
			t.Errorf("got stdout %q, stderr %q, exit %d; want %q", out, errOut, code, want)
		}
	})
	t.Run("exit status", func(t *testing.T) {
		out, errOut, code := run("", "--env", "T=/token", "--", sh, "-c", `printf out; printf err >&2; exit 7`)
		if out != "out" || errOut != "err" || code != 7 {
			t.Errorf("got stdout %q, stderr %q, exit %d; want out, err, 7", out, errOut, code)
		}
	})
	t.Run("signal", func(t *testing.T) {
		if _, _, code := run("", "--", sh, "-c", `kill -TERM $$`); code != 128+15 {
			t.Errorf("exit %d, want %d", code, 128+15)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		if out, _, code := run("piped input", "--", sh, "-c", "cat"); out != "piped input" || code != 0 {
			t.Errorf("got %q, exit %d", out, code)
		}
	})
	t.Run("no variables needs no server", func(t *testing.T) {
		bare := &cli{t: t, env: map[string]string{"COFFER_DATA_DIR": t.TempDir()}}
		if out := bare.ok("run", sh, "-c", "printf ok"); out != "ok" {
			t.Errorf("got %q", out)
		}
	})
	t.Run("missing secret", func(t *testing.T) {
		errOut := c.fail(1, "run", "--env", "T=/token", "--env", "P=/prod/missing#password", "--", sh, "-c", "printf ran")
		mustContain(t, errOut, "--env P: access /prod/missing@latest_enabled: resource is not found", "HTTP 404")
		mustNotContain(t, errOut, "tok-123")
	})
	t.Run("missing field", func(t *testing.T) {
		errOut := c.fail(1, "run", "--env", "P=/prod/db#passwd", "--", sh, "-c", "printf ran")
		mustContain(t, errOut, `--env P: /prod/db (revision 1): the value has no field "passwd"`)
		mustNotContain(t, errOut, "s3cret")
	})
	t.Run("NUL byte", func(t *testing.T) {
		errOut := c.fail(1, "run", "--env", "N=/nul", "--", sh, "-c", "printf ran")
		mustContain(t, errOut, "--env N: the value holds a NUL byte")
	})
	t.Run("no such command", func(t *testing.T) {
		errOut := c.fail(1, "run", "--env", "T=/token", "--", "/nonexistent/command")
		mustContain(t, errOut, "run /nonexistent/command:")
		mustNotContain(t, errOut, "tok-123")
	})
}
