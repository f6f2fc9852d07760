package main

import (
	"strings"
	"testing"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"

	"github.com/coffer-dev/coffer/internal/adminapi"
)

func TestVersionAccessed(t *testing.T) {
	t.Parallel()
	c, _ := newCLI(t)
	id := decode[secret.Secret](t, c.ok("secret", "create", "--name", "seen", "--path", "/app", "--json")).ID
	c.ok("version", "create", "--secret", id, "--data", "one")
	c.ok("version", "create", "--secret", id, "--data", "two")
	if out := c.ok("version", "access", "--secret", "/app/seen", "--revision", "1"); out != "one" {
		t.Fatalf("access: %q", out)
	}

	vs := decode[[]adminapi.Version](t, c.ok("version", "accessed", "/app/seen", "--json"))
	if len(vs) != 2 || vs[0].Revision != 1 || vs[0].AccessedAt == nil || vs[1].AccessedAt != nil || !vs[1].Latest {
		t.Fatalf("version accessed --json: %+v", vs)
	}
	out := c.ok("version", "accessed", "--secret", id)
	mustContain(t, out, "REVISION", "LAST ACCESSED", vs[0].AccessedAt.UTC().Format("2006-01-02T15:04:05Z"), "never")
	mustNotContain(t, out, "one", "two")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[2], "never") {
		t.Fatalf("version accessed:\n%s", out)
	}

	c.fail(2, "version", "accessed")
	c.fail(2, "version", "accessed", id, "--secret", id)
	c.fail(2, "version", "accessed", "/app/seen@1")
	mustContain(t, c.fail(1, "version", "accessed", "00000000-0000-0000-0000-000000000000"), "(HTTP 404)")
	mustContain(t, c.ok("version", "accessed", "-h"), "Usage: coffer version accessed", "-data-dir")
}
