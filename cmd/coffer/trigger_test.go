package main

import (
	"strings"
	"testing"
)

func TestTrigger(t *testing.T) {
	c, _ := newCLI(t)
	out := c.ok("trigger", "create", "--name", "rotator", "--url", "http://127.0.0.1:9/rotate")
	mustContain(t, out, "signing secret  whsec_", "shown this once")
	id := fields(t, strings.SplitN(out, "\n\n", 2)[0])["id"]
	if id == "" {
		t.Fatalf("no id in %q", out)
	}
	list := c.ok("trigger", "list")
	mustContain(t, list, id, "rotator", "http://127.0.0.1:9/rotate")
	mustNotContain(t, list, "whsec_")
	mustContain(t, c.ok("trigger", "list", "--all-projects", "--json"), `"id": "`+id+`"`)
	mustContain(t, c.fail(1, "trigger", "create", "--name", "rotator", "--url", "http://127.0.0.1:9/other"), "409")
	mustContain(t, c.fail(1, "trigger", "create", "--name", "imds", "--url", "http://169.254.169.254/latest/meta-data/"), "refused")
	c.fail(2, "trigger", "create", "--name", "x")
	c.ok("trigger", "delete", id)
	mustNotContain(t, c.ok("trigger", "list"), id)
	c.fail(1, "trigger", "delete", id)
}
