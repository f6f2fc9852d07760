package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
)

func TestSecretCommands(t *testing.T) {
	t.Parallel()
	c, n := newCLI(t)

	db := decode[secret.Secret](t, c.ok("secret", "create", "--name", "db", "--path", "/prod", "--type", "key_value",
		"--description", "main database", "--tag", "team-a", "--tag", "pg", "--json"))
	if db.Name != "db" || db.Path != "/prod" || db.Type != secret.SecretTypeKeyValue || db.ProjectID != n.Creds.ProjectID ||
		!slices.Equal(db.Tags, []string{"team-a", "pg"}) || db.Description == nil || *db.Description != "main database" || db.Protected {
		t.Fatalf("created %+v", db)
	}
	text := fields(t, c.ok("secret", "create", "--name", "cache", "--tag", "team-a"))
	if text["name"] != "cache" || text["path"] != "/" || text["type"] != "opaque" || text["tags"] != "team-a" || text["versions"] != "0" {
		t.Errorf("create printed %v", text)
	}
	cacheID := text["id"]

	t.Run("get", func(t *testing.T) {
		for _, ref := range []string{db.ID, strings.ToUpper(db.ID), "/prod/db", "prod/db"} {
			if got := decode[secret.Secret](t, c.ok("secret", "get", ref, "--json")); got.ID != db.ID {
				t.Errorf("secret get %s: id %s, want %s", ref, got.ID, db.ID)
			}
		}
		got := fields(t, c.ok("secret", "get", "cache"))
		if got["id"] != cacheID || got["protected"] != "no" || got["project"] != n.Creds.ProjectID {
			t.Errorf("secret get cache printed %v", got)
		}
		errOut := c.fail(1, "secret", "get", "/prod/nope")
		mustContain(t, errOut, "find secret /prod/nope: no such secret in project "+n.Creds.ProjectID)
		errOut = c.fail(1, "secret", "get", "6b3f4a8e-3c1d-4e55-9a1b-0c2d3e4f5a6b")
		mustContain(t, errOut, "resource is not found", "HTTP 404")
	})

	t.Run("list", func(t *testing.T) {
		names := func(args ...string) []string {
			t.Helper()
			var out []string
			for _, s := range decode[[]*secret.Secret](t, c.ok(append([]string{"secret", "list", "--json"}, args...)...)) {
				out = append(out, fullPath(s))
			}
			return out
		}
		for _, tt := range []struct {
			args []string
			want []string
		}{
			{nil, []string{"/cache", "/prod/db"}},
			{[]string{"--path", "/prod"}, []string{"/prod/db"}},
			{[]string{"--path", "/"}, []string{"/cache"}},
			{[]string{"--name", "cache"}, []string{"/cache"}},
			{[]string{"--tag", "team-a"}, []string{"/cache", "/prod/db"}},
			{[]string{"--tag", "team-a", "--tag", "pg"}, []string{"/prod/db"}},
			{[]string{"--type", "key_value"}, []string{"/prod/db"}},
			{[]string{"--name", "nope"}, nil},
			{[]string{"--scheduled-for-deletion"}, nil},
		} {
			if got := names(tt.args...); !slices.Equal(got, tt.want) {
				t.Errorf("secret list %v = %v, want %v", tt.args, got, tt.want)
			}
		}
		text := c.ok("secret", "list", "--tag", "pg")
		lines := strings.Split(strings.TrimSpace(text), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID ") {
			t.Fatalf("secret list printed %q", text)
		}
		mustContain(t, lines[1], db.ID, "/prod/db", "key_value", "team-a,pg")
		if got := c.ok("secret", "list", "--json", "--name", "nope"); strings.TrimSpace(got) != "[]" {
			t.Errorf("empty list printed %q, want []", got)
		}
	})

	t.Run("list all pages", func(t *testing.T) {
		for i := range 55 { // more than the server's default page of 50
			c.ok("secret", "create", "--name", "s"+strings.Repeat("x", i), "--path", "/many")
		}
		if got := decode[[]*secret.Secret](t, c.ok("secret", "list", "--path", "/many", "--json")); len(got) != 55 {
			t.Errorf("listed %d secrets, want 55", len(got))
		}
	})

	t.Run("update", func(t *testing.T) {
		got := decode[secret.Secret](t, c.ok("secret", "update", "/prod/db", "--name", "db2", "--path", "/prod/eu",
			"--description", "moved", "--tag", "x", "--tag", "y", "--json"))
		if got.ID != db.ID || got.Name != "db2" || got.Path != "/prod/eu" || *got.Description != "moved" || !slices.Equal(got.Tags, []string{"x", "y"}) {
			t.Errorf("updated %+v", got)
		}
		c.fail(1, "secret", "get", "/prod/db")
		got = decode[secret.Secret](t, c.ok("secret", "update", "/prod/eu/db2", "--clear-tags", "--json"))
		if len(got.Tags) != 0 || *got.Description != "moved" {
			t.Errorf("after --clear-tags: %+v", got)
		}
		got = decode[secret.Secret](t, c.ok("secret", "update", db.ID, "--description", "", "--json"))
		if *got.Description != "" || got.Name != "db2" {
			t.Errorf("after --description '': %+v", got)
		}
	})

	t.Run("protect and delete", func(t *testing.T) {
		if got := fields(t, c.ok("secret", "update", "/prod/eu/db2", "--protected=true")); got["protected"] != "yes" {
			t.Fatalf("after --protected=true: %v", got)
		}
		errOut := c.fail(1, "secret", "delete", "/prod/eu/db2")
		mustContain(t, errOut, "delete secret /prod/eu/db2: precondition is not respected", "protected", "HTTP 412")
		if got := decode[secret.Secret](t, c.ok("secret", "update", db.ID, "--protected=false", "--json")); got.Protected {
			t.Fatal("still protected")
		}
		out := c.ok("secret", "delete", "/prod/eu/db2")
		if want := "deleted secret /prod/eu/db2 (" + db.ID + ")\n"; out != want {
			t.Errorf("delete printed %q, want %q", out, want)
		}
		if out := c.ok("secret", "delete", cacheID); out != "deleted secret "+cacheID+"\n" {
			t.Errorf("delete by id printed %q", out)
		}
		list := decode[[]*secret.Secret](t, c.ok("secret", "list", "--scheduled-for-deletion", "--json"))
		if len(list) != 2 {
			t.Errorf("%d secrets scheduled for deletion, want 2", len(list))
		}
		got := fields(t, c.ok("secret", "get", db.ID))
		if _, err := time.Parse(time.RFC3339, got["deletion requested"]); err != nil {
			t.Errorf("secret get of a deleted secret: %v (%v)", got, err)
		}
		// A path finds only secrets that are not scheduled for deletion.
		c.fail(1, "secret", "get", "/prod/eu/db2")
	})
}

func TestSecretCreateEphemeral(t *testing.T) {
	t.Parallel()
	c, _ := newCLI(t)
	s := decode[secret.Secret](t, c.ok("secret", "create", "--name", "otp", "--ttl", "30m",
		"--expire-once-accessed", "--action", "delete", "--json"))
	p := s.EphemeralPolicy
	if p == nil || p.TimeToLive == nil || *p.TimeToLive.ToTimeDuration() != 30*time.Minute ||
		p.ExpiresOnceAccessed == nil || !*p.ExpiresOnceAccessed || p.Action != secret.EphemeralPolicyActionDelete {
		t.Fatalf("ephemeral policy %+v", p)
	}
	got := fields(t, c.ok("secret", "get", "/otp"))
	if want := "expires after 30m0s or once accessed, then delete"; got["ephemeral"] != want {
		t.Errorf("ephemeral %q, want %q", got["ephemeral"], want)
	}
	s = decode[secret.Secret](t, c.ok("secret", "create", "--name", "once", "--expire-once-accessed", "--action", "disable", "--json"))
	if p := s.EphemeralPolicy; p == nil || p.TimeToLive != nil || p.Action != secret.EphemeralPolicyActionDisable {
		t.Errorf("ephemeral policy %+v", p)
	}
	errOut := c.fail(1, "secret", "create", "--name", "long", "--ttl", "9000h", "--action", "disable")
	mustContain(t, errOut, "time_to_live", "HTTP 400")
}
