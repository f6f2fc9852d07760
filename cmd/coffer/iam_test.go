package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
	"github.com/scaleway/scaleway-sdk-go/scw"
)

// TestIAMReadOnlyApplication: an administrator creates, through coffer iam,
// an application that may read metadata and values; it resolves
// SECRET_ID#field with coffer get and with the Scaleway SDK, and every write
// it tries is refused. Disabling its key ends its access at once.
func TestIAMReadOnlyApplication(t *testing.T) {
	t.Parallel()
	c, n := newCLI(t)
	db := decode[secret.Secret](t, c.ok("secret", "create", "--name", "db", "--path", "/prod", "--type", "key_value", "--json")).ID
	c.ok("version", "create", "--secret", db, "--data", `{"user":"app","password":"ro-canary"}`)

	p := decode[principalOut](t, c.ok("iam", "principal", "create", "--kind", "application", "--name", "reader", "--json"))
	if p.ID == "" || p.Kind != "application" || p.Admin {
		t.Fatalf("principal: %+v", p)
	}
	pol := decode[policyOut](t, c.ok("iam", "policy", "create", "--principal", p.ID,
		"--sets", "SecretManagerReadOnly,SecretManagerSecretAccess", "--json"))
	if pol.ProjectID != n.Creds.ProjectID || pol.PathPrefix != "/" || len(pol.PermissionSets) != 2 {
		t.Fatalf("policy: %+v", pol)
	}
	k := decode[keyOut](t, c.ok("iam", "key", "create", "--principal", p.ID, "--expires", "720h", "--description", "ci", "--json"))
	if !strings.HasPrefix(k.AccessKey, "SCW") || len(k.AccessKey) != 20 || k.SecretKey == "" || k.ExpiresAt == nil {
		t.Fatalf("key: %+v", k)
	}
	// The secret key is shown once: listings never carry it.
	list := c.ok("iam", "key", "list", "--principal", p.ID, "--json")
	if strings.Contains(list, k.SecretKey) || !strings.Contains(list, k.AccessKey) {
		t.Fatalf("key list: %s", list)
	}
	mustContain(t, c.ok("iam", "policy", "list", "--principal", p.ID), "SecretManagerReadOnly,SecretManagerSecretAccess")
	mustContain(t, c.ok("iam", "principal", "list"), "reader", "admin")

	app := c.with("COFFER_TOKEN", k.SecretKey)
	for _, ref := range []string{db + "#password", "/prod/db#password"} {
		if out := app.ok("get", ref); out != "ro-canary" {
			t.Errorf("coffer get %s = %q", ref, out)
		}
	}
	mustContain(t, app.ok("secret", "list"), "db")

	// The Scaleway SDK, with the application's key.
	sc, err := scw.NewClient(scw.WithAPIURL(n.URL), scw.WithAuth(k.AccessKey, k.SecretKey),
		scw.WithDefaultProjectID(n.Creds.ProjectID), scw.WithDefaultRegion(scw.RegionFrPar),
		scw.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	api := secret.NewAPI(sc)
	res, err := api.AccessSecretVersion(&secret.AccessSecretVersionRequest{SecretID: db, Revision: "latest_enabled"})
	if err != nil {
		t.Fatalf("SDK access: %v", err)
	}
	var fields map[string]string
	if err := json.Unmarshal(res.Data, &fields); err != nil || fields["password"] != "ro-canary" {
		t.Fatalf("SDK access: %q %v", res.Data, err)
	}
	_, err = api.CreateSecretVersion(&secret.CreateSecretVersionRequest{SecretID: db, Data: []byte(`{"password":"x"}`)})
	var denied *scw.PermissionsDeniedError
	if err == nil || !errors.As(err, &denied) {
		t.Fatalf("SDK write: %v (%T), want a PermissionsDeniedError", err, err)
	}
	if err := api.DeleteSecret(&secret.DeleteSecretRequest{SecretID: db}); err == nil {
		t.Fatal("SDK delete: allowed")
	}

	// Every write through the CLI is refused, and changes nothing.
	for _, args := range [][]string{
		{"secret", "create", "--name", "new"},
		{"version", "create", "--secret", db, "--data", `{"password":"x"}`},
		{"secret", "update", db, "--description", "x"},
		{"secret", "delete", db},
		{"version", "disable", "--secret", db, "--revision", "1"},
		{"iam", "principal", "create", "--name", "escalate"},
		{"iam", "policy", "create", "--principal", p.ID, "--sets", "SecretManagerFullAccess"},
	} {
		mustContain(t, app.fail(1, args...), "403")
	}
	if out := c.ok("get", db+"#password"); out != "ro-canary" {
		t.Fatalf("after refused writes: %q", out)
	}

	// Disabled, the key stops at once; enabled, it works again; deleted, it
	// is gone.
	c.ok("iam", "key", "disable", k.AccessKey)
	mustContain(t, app.fail(1, "get", db+"#password"), "401")
	c.ok("iam", "key", "enable", k.AccessKey)
	app.ok("get", db+"#password")
	c.ok("iam", "key", "delete", k.AccessKey)
	mustContain(t, app.fail(1, "get", db+"#password"), "401")
	c.ok("iam", "policy", "delete", pol.ID)
	c.ok("iam", "principal", "delete", p.ID)
	c.fail(1, "iam", "principal", "get", p.ID)
}

// TestIAMProjects: projects are created and listed; a policy on all
// projects reaches a new one.
func TestIAMProjects(t *testing.T) {
	t.Parallel()
	c, _ := newCLI(t)
	pr := decode[projectOut](t, c.ok("iam", "project", "create", "staging", "--json"))
	mustContain(t, c.ok("iam", "project", "list"), "default", "staging")
	c.fail(1, "iam", "project", "create", "staging")
	p := decode[principalOut](t, c.ok("iam", "principal", "create", "--name", "deployer", "--json"))
	c.ok("iam", "policy", "create", "--principal", p.ID, "--all-projects", "--sets", "SecretManagerFullAccess")
	k := decode[keyOut](t, c.ok("iam", "key", "create", "--principal", p.ID, "--project", pr.ID, "--json"))
	app := c.with("COFFER_TOKEN", k.SecretKey, "COFFER_PROJECT", pr.ID)
	app.ok("secret", "create", "--name", "s")
	app.ok("version", "create", "--secret", "/s", "--data", "v")
	if out := app.ok("get", "/s"); out != "v" {
		t.Fatalf("get: %q", out)
	}
	c.fail(2, "iam", "policy", "create", "--principal", p.ID, "--all-projects", "--project", pr.ID, "--sets", "x")
	mustContain(t, c.fail(1, "iam", "policy", "create", "--principal", p.ID, "--sets", "Nope"), "unknown permission set")
}

// TestIAMOrganizations: the bootstrap admin, an operator, creates an
// organization with coffer iam org create; its admin key, printed once,
// works at once and sees only its own organization. Admin principals are
// created with --admin, by admins only.
func TestIAMOrganizations(t *testing.T) {
	t.Parallel()
	c, n := newCLI(t)
	mustContain(t, c.ok("iam", "org", "list"), "default", n.Creds.OrganizationID)
	o := decode[orgCreatedOut](t, c.ok("iam", "org", "create", "acme", "--json"))
	if o.Organization.ID == "" || o.Organization.Name != "acme" || o.ProjectID == "" ||
		!strings.HasPrefix(o.AccessKey, "SCW") || o.SecretKey == "" || o.AdminPrincipalID == "" {
		t.Fatalf("org create: %+v", o)
	}
	mustContain(t, c.ok("iam", "org", "create", "beta"), "secret key", "shown this once")
	mustContain(t, c.fail(1, "iam", "org", "create", "acme"), "409")
	list := decode[[]orgOut](t, c.ok("iam", "org", "list", "--json"))
	if len(list) != 3 || list[0].ID != n.Creds.OrganizationID || list[1].ID != o.Organization.ID {
		t.Fatalf("org list: %+v", list)
	}
	if got := decode[orgOut](t, c.ok("iam", "org", "get", o.Organization.ID, "--json")); got != o.Organization {
		t.Fatalf("org get: %+v, want %+v", got, o.Organization)
	}
	c.fail(2, "iam", "org", "create")
	c.fail(2, "iam", "org", "get")

	// The new organization's admin works in its own project and sees
	// nothing else.
	acme := c.with("COFFER_TOKEN", o.SecretKey, "COFFER_PROJECT", o.ProjectID)
	acme.ok("secret", "create", "--name", "db")
	acme.ok("version", "create", "--secret", "/db", "--data", "acme-canary")
	if out := acme.ok("get", "/db"); out != "acme-canary" {
		t.Fatalf("get: %q", out)
	}
	orgs := decode[[]orgOut](t, acme.ok("iam", "org", "list", "--json"))
	if len(orgs) != 1 || orgs[0].ID != o.Organization.ID {
		t.Fatalf("org list, new admin: %+v", orgs)
	}
	mustContain(t, acme.fail(1, "iam", "org", "get", n.Creds.OrganizationID), "404")
	mustContain(t, acme.fail(1, "iam", "org", "create", "nested"), "403")

	// --admin: an admin creates an admin; an IAM manager may not.
	a := decode[principalOut](t, acme.ok("iam", "principal", "create", "--kind", "user", "--name", "ops", "--admin", "--json"))
	if !a.Admin {
		t.Fatalf("principal create --admin: %+v", a)
	}
	p := decode[principalOut](t, acme.ok("iam", "principal", "create", "--name", "deployer", "--json"))
	acme.ok("iam", "policy", "create", "--principal", p.ID, "--all-projects", "--sets", "IAMManager")
	k := decode[keyOut](t, acme.ok("iam", "key", "create", "--principal", p.ID, "--json"))
	mgr := acme.with("COFFER_TOKEN", k.SecretKey)
	mustContain(t, mgr.fail(1, "iam", "principal", "create", "--name", "boss", "--admin"), "403")
	mustNotContain(t, acme.ok("iam", "principal", "list"), "boss")
	mustContain(t, mgr.ok("iam", "org", "list"), "acme")
	mustContain(t, mgr.fail(1, "iam", "org", "create", "rogue"), "403")
	mustNotContain(t, c.ok("iam", "org", "list"), "rogue")
}
