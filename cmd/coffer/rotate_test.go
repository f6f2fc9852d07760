package main

import (
	"strings"
	"testing"
)

func TestSecretRotate(t *testing.T) {
	t.Parallel()
	c, _ := newCLI(t)
	c.ok("secret", "create", "--name", "db", "--path", "/prod", "--type", "key_value")
	c.ok("version", "create", "--secret", "/prod/db", "--data", `{"user":"app","password":"old-password","token":"old-token"}`)
	get := func(field string) string {
		t.Helper()
		return strings.TrimSuffix(c.ok("get", "/prod/db#"+field), "\n")
	}

	out := c.ok("secret", "rotate", "/prod/db", "--generate", "password=20,token=6")
	if strings.TrimSpace(out) != "rotated /prod/db: revision 2" {
		t.Fatalf("secret rotate printed %q", out)
	}
	pw, tok := get("password"), get("token")
	if len(pw) != 20 || len(tok) != 6 || pw == "old-password" || get("user") != "app" {
		t.Fatalf("after rotation: password %q token %q user %q", pw, tok, get("user"))
	}
	mustNotContain(t, out, pw, tok, "app")

	// Only the revision is printed, in JSON too.
	out = c.ok("secret", "rotate", "/prod/db", "--generate", "password=8", "--json")
	mustContain(t, out, `"revision": 3`)
	mustNotContain(t, out, get("password"), tok, "app")
	if get("token") != tok {
		t.Errorf("token changed by a rotation of password")
	}

	mustContain(t, c.fail(1, "secret", "rotate", "/prod/db"), "no rotation targets")
	mustContain(t, c.fail(1, "secret", "rotate", "/prod/db", "--generate", "password=4"), "between 5 and 32")
	mustContain(t, c.fail(1, "secret", "rotate", "/prod/db", "--generate", "passwd=12"), `no field "passwd"`)
	c.fail(2, "secret", "rotate", "/prod/db", "--generate", "password")
	c.fail(2, "secret", "rotate", "/prod/db", "--generate", "password=x")

	c.ok("secret", "create", "--name", "blob", "--type", "opaque")
	c.ok("version", "create", "--secret", "/blob", "--data", `{"password":"x"}`)
	mustContain(t, c.fail(1, "secret", "rotate", "/blob", "--generate", "password=12"), "key_value")
	if got := strings.TrimSpace(c.ok("get", "/blob")); got != `{"password":"x"}` {
		t.Errorf("refused rotation changed an opaque secret: %q", got)
	}
}
