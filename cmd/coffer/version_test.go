package main

import (
	"os"
	"path/filepath"
	"testing"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
)

func TestVersionCommands(t *testing.T) {
	t.Parallel()
	c, _ := newCLI(t)
	id := decode[secret.Secret](t, c.ok("secret", "create", "--name", "api", "--path", "/app", "--json")).ID

	// Three ways to give a value; each is stored byte for byte.
	v := decode[secret.SecretVersion](t, c.ok("version", "create", "--secret", "/app/api", "--data", "value-one", "--json"))
	if v.Revision != 1 || v.SecretID != id || v.Status != secret.SecretVersionStatusEnabled || !v.Latest {
		t.Fatalf("created %+v", v)
	}
	file := filepath.Join(t.TempDir(), "value")
	if err := os.WriteFile(file, []byte("value-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := fields(t, c.ok("version", "create", "--secret", "app/api", "--file", file, "--description", "from a file"))
	if got["revision"] != "2" || got["secret"] != id || got["description"] != "from a file" || got["latest"] != "yes" {
		t.Errorf("version create printed %v", got)
	}
	v = decode[secret.SecretVersion](t, c.okIn("value\x00three", "version", "create", "--secret", id, "--stdin",
		"--disable-previous", "--json"))
	if v.Revision != 3 {
		t.Fatalf("created revision %d, want 3", v.Revision)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--secret", "/app/api"}, "value\x00three"},
		{[]string{"--secret", id, "--revision", "latest"}, "value\x00three"},
		{[]string{"--secret", "app/api", "--revision", "1"}, "value-one"},
	} {
		if out := c.ok(append([]string{"version", "access"}, tt.args...)...); out != tt.want {
			t.Errorf("version access %v = %q, want %q", tt.args, out, tt.want)
		}
	}

	// --disable-previous disabled revision 2.
	errOut := c.fail(1, "version", "access", "--secret", "/app/api", "--revision", "2")
	mustContain(t, errOut, "access /app/api@2: precondition is not respected: the secret version is disabled (HTTP 412)")

	list := decode[[]*secret.SecretVersion](t, c.ok("version", "list", "--secret", "/app/api", "--json"))
	if len(list) != 3 || list[0].Revision != 3 || list[1].Status != secret.SecretVersionStatusDisabled ||
		list[2].Status != secret.SecretVersionStatusEnabled {
		t.Fatalf("version list: %d versions %+v", len(list), list)
	}
	if text := c.ok("version", "list", "--secret", id); text != c.ok("version", "list", "--secret", "/app/api") {
		t.Errorf("version list by id and by path differ")
	}

	t.Run("disable and enable", func(t *testing.T) {
		got := decode[secret.SecretVersion](t, c.ok("version", "disable", "--secret", "/app/api", "--revision", "3", "--json"))
		if got.Status != secret.SecretVersionStatusDisabled {
			t.Fatalf("after disable: %+v", got)
		}
		errOut := c.fail(1, "version", "access", "--secret", "/app/api")
		mustContain(t, errOut, "access /app/api@latest: precondition is not respected", "disabled", "HTTP 412")
		mustNotContain(t, errOut, "three")
		// Revision 2 was disabled by --disable-previous: the latest enabled is 1.
		if out := c.ok("version", "access", "--secret", "/app/api", "--revision", "latest_enabled"); out != "value-one" {
			t.Errorf("latest_enabled = %q, want value-one", out)
		}
		text := fields(t, c.ok("version", "enable", "--secret", id, "--revision", "3"))
		if text["status"] != "enabled" || text["revision"] != "3" {
			t.Errorf("version enable printed %v", text)
		}
		if out := c.ok("version", "access", "--secret", "/app/api"); out != "value\x00three" {
			t.Errorf("after enable: %q", out)
		}
		c.ok("version", "enable", "--secret", "/app/api", "--revision", "2")
		if out := c.ok("version", "access", "--secret", "/app/api", "--revision", "2"); out != "value-two\n" {
			t.Errorf("revision 2 = %q, want the file's bytes", out)
		}
	})

	t.Run("delete", func(t *testing.T) {
		out := c.ok("version", "delete", "--secret", "/app/api", "--revision", "1")
		if want := "deleted version 1 of secret /app/api (" + id + ")\n"; out != want {
			t.Errorf("version delete printed %q, want %q", out, want)
		}
		list := decode[[]*secret.SecretVersion](t, c.ok("version", "list", "--secret", id, "--json"))
		if last := list[len(list)-1]; last.Revision != 1 || last.Status != secret.SecretVersionStatusScheduledForDeletion {
			t.Errorf("after delete: %+v", last)
		}
		errOut := c.fail(1, "version", "delete", "--secret", id, "--revision", "9")
		mustContain(t, errOut, "delete version 9 of "+id+": resource is not found", "HTTP 404")
	})

	t.Run("errors", func(t *testing.T) {
		errOut := c.fail(1, "version", "create", "--secret", "/app/api", "--file", filepath.Join(t.TempDir(), "missing"))
		mustContain(t, errOut, "read value", "no such file")
		errOut = c.fail(1, "version", "list", "--secret", "/app/nope")
		mustContain(t, errOut, "find secret /app/nope: no such secret")
		errOut = c.fail(1, "version", "access", "--secret", "/app/nope")
		mustContain(t, errOut, "resource is not found", "HTTP 404")
		kv := decode[secret.Secret](t, c.ok("secret", "create", "--name", "kv", "--type", "key_value", "--json"))
		errOut = c.fail(1, "version", "create", "--secret", kv.ID, "--data", "plain-canary")
		mustContain(t, errOut, "invalid argument(s): data", "HTTP 400")
		mustNotContain(t, errOut, "plain-canary")
	})
}
