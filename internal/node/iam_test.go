package node_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// grantee is a principal with one API key and one policy.
type grantee struct {
	principal *coffer.Principal
	key       *coffer.APIKeySecret
}

// grant creates an application with a policy on project (all projects when
// empty) below prefix, and an API key whose default project is project.
func grant(t *testing.T, n *nodetest.Node, admin context.Context, project, prefix string, sets ...coffer.PermissionSet) grantee {
	t.Helper()
	p, err := n.Engine.CreatePrincipal(admin, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "app"})
	if err != nil {
		t.Fatalf("create principal: %v", err)
	}
	if len(sets) > 0 {
		if _, err := n.Engine.CreatePolicy(admin, coffer.PolicyCreate{PrincipalID: p.ID, ProjectID: project, PathPrefix: prefix, PermissionSets: sets}); err != nil {
			t.Fatalf("create policy: %v", err)
		}
	}
	defaultProject := project
	if defaultProject == "" {
		defaultProject = n.Creds.ProjectID
	}
	k, err := n.Engine.CreateAPIKey(admin, coffer.APIKeyCreate{PrincipalID: p.ID, DefaultProjectID: defaultProject})
	if err != nil {
		t.Fatalf("create API key: %v", err)
	}
	return grantee{principal: p, key: k}
}

// wire is one answer over HTTP.
type wire struct {
	status int
	body   string
}

// call sends one request with a dialect's credential header.
func call(t *testing.T, n *nodetest.Node, dialect, secretKey, method, path, body string) wire {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	switch dialect {
	case "scaleway":
		req.Header.Set("X-Auth-Token", secretKey)
	case "vault":
		req.Header.Set("X-Vault-Token", secretKey)
	case "okms":
		req.Header.Set("Authorization", "Bearer "+secretKey)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return wire{res.StatusCode, string(b)}
}

const scwBase = "/secret-manager/v1beta1/regions/fr-par"

// operation is one representative call of a dialect on the secret at
// folder "/team" named name, whose id is id, in project.
type operation struct {
	name   string
	action coffer.PermissionSet // the narrow set that allows it
	req    func(project, id, name string) (method, path, body string)
}

func operations(dialect string) []operation {
	b64 := base64.StdEncoding.EncodeToString([]byte(`{"k":"v2"}`))
	switch dialect {
	case "scaleway":
		return []operation{
			{"list", coffer.SecretManagerReadOnly, func(p, _, _ string) (string, string, string) {
				return "GET", scwBase + "/secrets?project_id=" + p, ""
			}},
			{"get", coffer.SecretManagerReadOnly, func(_, id, _ string) (string, string, string) {
				return "GET", scwBase + "/secrets/" + id, ""
			}},
			{"access", coffer.SecretManagerSecretAccess, func(_, id, _ string) (string, string, string) {
				return "GET", scwBase + "/secrets/" + id + "/versions/latest/access", ""
			}},
			{"create", coffer.SecretManagerSecretCreate, func(p, _, _ string) (string, string, string) {
				return "POST", scwBase + "/secrets", `{"project_id":"` + p + `","name":"new","path":"/team"}`
			}},
			{"version", coffer.SecretManagerSecretCreate, func(_, id, _ string) (string, string, string) {
				return "POST", scwBase + "/secrets/" + id + "/versions", `{"data":"` + b64 + `"}`
			}},
			{"delete", coffer.SecretManagerSecretDelete, func(_, id, _ string) (string, string, string) {
				return "DELETE", scwBase + "/secrets/" + id, ""
			}},
		}
	case "vault":
		return []operation{
			{"list", coffer.SecretManagerReadOnly, func(_, _, _ string) (string, string, string) {
				return "GET", "/v1/secret/metadata/team/?list=true", ""
			}},
			{"get", coffer.SecretManagerReadOnly, func(_, _, name string) (string, string, string) {
				return "GET", "/v1/secret/metadata/team/" + name, ""
			}},
			{"access", coffer.SecretManagerSecretAccess, func(_, _, name string) (string, string, string) {
				return "GET", "/v1/secret/data/team/" + name, ""
			}},
			{"create", coffer.SecretManagerSecretCreate, func(_, _, _ string) (string, string, string) {
				return "POST", "/v1/secret/data/team/new", `{"data":{"k":"v"}}`
			}},
			{"version", coffer.SecretManagerSecretCreate, func(_, _, name string) (string, string, string) {
				return "POST", "/v1/secret/data/team/" + name, `{"data":{"k":"v2"}}`
			}},
			{"delete", coffer.SecretManagerSecretDelete, func(_, _, name string) (string, string, string) {
				return "DELETE", "/v1/secret/metadata/team/" + name, ""
			}},
		}
	default:
		return []operation{
			{"list", coffer.SecretManagerReadOnly, func(p, _, _ string) (string, string, string) {
				return "GET", "/api/" + p + "/v2/secret", ""
			}},
			{"get", coffer.SecretManagerReadOnly, func(p, _, name string) (string, string, string) {
				return "GET", "/api/" + p + "/v2/secret/team%2F" + name, ""
			}},
			{"access", coffer.SecretManagerSecretAccess, func(p, _, name string) (string, string, string) {
				return "GET", "/api/" + p + "/v2/secret/team%2F" + name + "/version/1?includeData=true", ""
			}},
			{"create", coffer.SecretManagerSecretCreate, func(p, _, _ string) (string, string, string) {
				return "POST", "/api/" + p + "/v2/secret", `{"path":"team/new","version":{"data":{"k":"v"}}}`
			}},
			{"version", coffer.SecretManagerSecretCreate, func(p, _, name string) (string, string, string) {
				return "POST", "/api/" + p + "/v2/secret/team%2F" + name + "/version", `{"data":{"k":"v2"}}`
			}},
			{"delete", coffer.SecretManagerSecretDelete, func(p, _, name string) (string, string, string) {
				return "DELETE", "/api/" + p + "/v2/secret/team%2F" + name, ""
			}},
		}
	}
}

// snapshot describes a project's secrets and versions, as the admin sees
// them: what a denied call must leave unchanged.
func snapshot(t *testing.T, n *nodetest.Node, admin context.Context, project string) string {
	t.Helper()
	secrets, _, err := n.Engine.ListSecrets(admin, coffer.SecretFilter{ProjectID: project})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range secrets {
		b.WriteString(s.FullPath() + " " + string(s.State) + " " + s.UpdatedAt.String())
		vs, _, err := n.Engine.ListVersions(admin, s.ID, coffer.VersionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			b.WriteString(" " + string(v.State))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// seed creates /team/db with one version in the admin's project.
func seed(t *testing.T, n *nodetest.Node, admin context.Context, project, name string) *coffer.Secret {
	t.Helper()
	s, _, err := n.Engine.CreateVersion(admin, "", coffer.VersionCreate{
		Data:         coffer.Payload(`{"user":"admin","password":"s3cret"}`),
		CreateSecret: &coffer.SecretCreate{ProjectID: project, Path: "/team", Name: name, Type: coffer.TypeKeyValue},
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return s
}

// wantDenied checks a dialect's own 403 body.
func wantDenied(t *testing.T, dialect string, w wire) {
	t.Helper()
	if w.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403: %s", w.status, w.body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(w.body), &m); err != nil {
		t.Fatalf("403 body %q: %v", w.body, err)
	}
	switch dialect {
	case "scaleway":
		details, _ := m["details"].([]any)
		if m["type"] != "permissions_denied" || len(details) != 1 {
			t.Fatalf("Scaleway 403 body: %s", w.body)
		}
		d := details[0].(map[string]any)
		if d["resource"] == "" || d["action"] == "" {
			t.Fatalf("Scaleway 403 details: %s", w.body)
		}
	case "vault":
		if diff := cmp.Diff(map[string]any{"errors": []any{"permission denied"}}, m); diff != "" {
			t.Fatalf("Vault 403 body (-want +got):\n%s", diff)
		}
	case "okms":
		if m["error_code"] == nil {
			t.Fatalf("OKMS 403 body: %s", w.body)
		}
	}
}

var dialects = []string{"scaleway", "vault", "okms"}

// TestPermissionMatrix: for each permission set and dialect, each
// representative operation is allowed exactly when the set grants it, and a
// denied operation changes nothing.
func TestPermissionMatrix(t *testing.T) {
	sets := []coffer.PermissionSet{
		coffer.SecretManagerFullAccess, coffer.SecretManagerReadOnly, coffer.SecretManagerSecretAccess,
		coffer.SecretManagerSecretCreate, coffer.SecretManagerSecretDelete, coffer.KeyManager,
		coffer.IAMManager, coffer.AuditReader,
	}
	for _, set := range sets {
		for _, dialect := range dialects {
			t.Run(string(set)+"/"+dialect, func(t *testing.T) {
				t.Parallel()
				n := nodetest.Start(t)
				admin := as(t, n)
				project := n.Creds.ProjectID
				g := grant(t, n, admin, project, "/", set)
				for _, op := range operations(dialect) {
					s := seed(t, n, admin, project, "db-"+op.name)
					before := snapshot(t, n, admin, project)
					method, path, body := op.req(project, s.ID, s.Name)
					w := call(t, n, dialect, g.key.SecretKey, method, path, body)
					allowed := set == coffer.SecretManagerFullAccess || set == op.action
					if allowed {
						if w.status >= 300 {
							t.Fatalf("%s: %s %s: %d, want success: %s", op.name, method, path, w.status, w.body)
						}
						continue
					}
					t.Run(op.name, func(t *testing.T) { wantDenied(t, dialect, w) })
					if after := snapshot(t, n, admin, project); after != before {
						t.Fatalf("%s: a denied call changed the project:\n%s\nthen:\n%s", op.name, before, after)
					}
				}
			})
		}
	}
}

// TestProjectIsolation: a key of project A cannot list, read, write or
// detect the secrets of project B through any dialect: B's secrets are 404
// or absent, and nothing in B changes.
func TestProjectIsolation(t *testing.T) {
	n := nodetest.Start(t)
	admin := as(t, n)
	a := n.Creds.ProjectID
	pb, err := n.Engine.CreateProject(admin, "b")
	if err != nil {
		t.Fatal(err)
	}
	b := pb.ID
	g := grant(t, n, admin, a, "/", coffer.SecretManagerFullAccess)
	for _, dialect := range dialects {
		for _, op := range operations(dialect) {
			s := seed(t, n, admin, b, "iso-"+dialect+"-"+op.name)
			before := snapshot(t, n, admin, b)
			// Vault reaches the key's default project, A, where the same
			// path holds nothing.
			method, path, body := op.req(b, s.ID, s.Name)
			w := call(t, n, dialect, g.key.SecretKey, method, path, body)
			switch {
			case dialect == "vault" && w.status < 300 && op.name != "create" && op.name != "version":
				if strings.Contains(w.body, "s3cret") || strings.Contains(w.body, s.ID) {
					t.Fatalf("%s %s: reached project B: %s", dialect, op.name, w.body)
				}
			case dialect == "vault" && (op.name == "create" || op.name == "version"):
				// Writes land in A, never in B (checked below).
			case w.status != http.StatusNotFound && !(op.name == "list" && w.status == http.StatusForbidden):
				t.Fatalf("%s %s on project B: %d, want 404: %s", dialect, op.name, w.status, w.body)
			}
			if strings.Contains(w.body, "s3cret") {
				t.Fatalf("%s %s: a value of project B leaked", dialect, op.name)
			}
			if after := snapshot(t, n, admin, b); after != before {
				t.Fatalf("%s %s changed project B:\n%s\nthen:\n%s", dialect, op.name, before, after)
			}
		}
	}
}

// TestPathLimitedKey: a key limited to /team/app sees and reaches only the
// secrets below it, through listing (with counts), browsing and access by
// path, in every dialect.
func TestPathLimitedKey(t *testing.T) {
	n := nodetest.Start(t)
	admin := as(t, n)
	p := n.Creds.ProjectID
	for _, path := range []string{"/team/app", "/team/app/sub", "/team/other", "/team/application"} {
		if _, _, err := n.Engine.CreateVersion(admin, "", coffer.VersionCreate{
			Data:         coffer.Payload(`{"k":"` + path + `"}`),
			CreateSecret: &coffer.SecretCreate{ProjectID: p, Path: path, Name: "s", Type: coffer.TypeKeyValue},
		}); err != nil {
			t.Fatal(err)
		}
	}
	g := grant(t, n, admin, p, "/team/app", coffer.SecretManagerReadOnly, coffer.SecretManagerSecretAccess)

	// Scaleway listing: only the two secrets below /team/app, counted right.
	w := call(t, n, "scaleway", g.key.SecretKey, "GET", scwBase+"/secrets?project_id="+p, "")
	var list struct {
		Secrets []struct {
			ID   string `json:"id"`
			Path string `json:"path"`
		} `json:"secrets"`
		TotalCount int `json:"total_count"`
	}
	if err := json.Unmarshal([]byte(w.body), &list); err != nil || w.status != 200 {
		t.Fatalf("list: %d %s", w.status, w.body)
	}
	var paths []string
	for _, s := range list.Secrets {
		paths = append(paths, s.Path)
	}
	slices.Sort(paths)
	if diff := cmp.Diff([]string{"/team/app", "/team/app/sub"}, paths); diff != "" || list.TotalCount != 2 {
		t.Fatalf("listing (-want +got):\n%s total %d", diff, list.TotalCount)
	}
	// Browsing the root shows only the way down to /team/app.
	w = call(t, n, "scaleway", g.key.SecretKey, "GET", scwBase+"/secrets/browse?project_id="+p+"&prefix=/team", "")
	if w.status != 200 || strings.Contains(w.body, "other") || strings.Contains(w.body, "application") || !strings.Contains(w.body, `"app"`) {
		t.Fatalf("browse: %d %s", w.status, w.body)
	}
	// Vault listing of /team shows app/ only.
	w = call(t, n, "vault", g.key.SecretKey, "GET", "/v1/secret/metadata/team/?list=true", "")
	if w.status != 200 || strings.Contains(w.body, "other") || strings.Contains(w.body, "application") {
		t.Fatalf("Vault list: %d %s", w.status, w.body)
	}
	// Access inside works; outside, the secret does not exist.
	for _, tc := range []struct {
		dialect, method, path string
		status                int
	}{
		{"vault", "GET", "/v1/secret/data/team/app/s", 200},
		{"vault", "GET", "/v1/secret/data/team/other/s", 404},
		{"vault", "GET", "/v1/secret/data/team/application/s", 404},
		{"okms", "GET", "/api/" + p + "/v2/secret/team%2Fapp%2Fsub%2Fs?includeData=true", 200},
		{"okms", "GET", "/api/" + p + "/v2/secret/team%2Fother%2Fs?includeData=true", 404},
		{"scaleway", "GET", scwBase + "/secrets-by-path/versions/latest/access?project_id=" + p + "&secret_path=/team/other&secret_name=s", 404},
		{"scaleway", "GET", scwBase + "/secrets-by-path/versions/latest/access?project_id=" + p + "&secret_path=/team/app&secret_name=s", 200},
	} {
		w := call(t, n, tc.dialect, g.key.SecretKey, tc.method, tc.path, "")
		if w.status != tc.status {
			t.Errorf("%s %s: %d, want %d: %s", tc.dialect, tc.path, w.status, tc.status, w.body)
		}
	}
	// Writes are refused everywhere, outside as inside.
	w = call(t, n, "okms", g.key.SecretKey, "POST", "/api/"+p+"/v2/secret", `{"path":"team/app/new","version":{"data":{"k":"v"}}}`)
	wantDenied(t, "okms", w)
}

// TestKeyRevocation: disabled, deleted and expired keys, and a principal's
// lost rights, stop working at once.
func TestKeyRevocation(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, nodetest.WithNow(clock.Now))
	admin := as(t, n)
	p := n.Creds.ProjectID
	list := scwBase + "/secrets?project_id=" + p
	works := func(k *coffer.APIKeySecret) int {
		t.Helper()
		return call(t, n, "scaleway", k.SecretKey, "GET", list, "").status
	}

	g := grant(t, n, admin, p, "/", coffer.SecretManagerReadOnly)
	if s := works(g.key); s != 200 {
		t.Fatalf("fresh key: %d", s)
	}
	if _, err := n.Engine.SetAPIKeyDisabled(admin, g.key.AccessKey, true); err != nil {
		t.Fatal(err)
	}
	if s := works(g.key); s != 401 {
		t.Fatalf("disabled key: %d, want 401", s)
	}
	if _, err := n.Engine.SetAPIKeyDisabled(admin, g.key.AccessKey, false); err != nil {
		t.Fatal(err)
	}
	if s := works(g.key); s != 200 {
		t.Fatalf("enabled again: %d", s)
	}
	if err := n.Engine.DeleteAPIKey(admin, g.key.AccessKey); err != nil {
		t.Fatal(err)
	}
	if s := works(g.key); s != 401 {
		t.Fatalf("deleted key: %d, want 401", s)
	}

	// Expiry.
	exp := clock.Now().Add(time.Hour)
	k, err := n.Engine.CreateAPIKey(admin, coffer.APIKeyCreate{PrincipalID: g.principal.ID, DefaultProjectID: p, ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if s := works(k); s != 200 {
		t.Fatalf("key before expiry: %d", s)
	}
	clock.Advance(time.Hour)
	if s := works(k); s != 401 {
		t.Fatalf("expired key: %d, want 401", s)
	}

	// A policy removed takes effect at once; a principal deleted loses its keys.
	k2, err := n.Engine.CreateAPIKey(admin, coffer.APIKeyCreate{PrincipalID: g.principal.ID, DefaultProjectID: p})
	if err != nil {
		t.Fatal(err)
	}
	if s := works(k2); s != 200 {
		t.Fatalf("second key: %d", s)
	}
	pols, err := n.Engine.ListPolicies(admin, g.principal.ID)
	if err != nil || len(pols) != 1 {
		t.Fatalf("policies: %v %v", pols, err)
	}
	if err := n.Engine.DeletePolicy(admin, pols[0].ID); err != nil {
		t.Fatal(err)
	}
	if s := works(k2); s != 404 {
		t.Fatalf("without a policy: %d, want 404", s)
	}
	if err := n.Engine.DeletePrincipal(admin, g.principal.ID); err != nil {
		t.Fatal(err)
	}
	if s := works(k2); s != 401 {
		t.Fatalf("deleted principal: %d, want 401", s)
	}
	if _, err := n.Engine.GetPrincipal(admin, g.principal.ID); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Fatalf("deleted principal: %v", err)
	}
}

// TestIAMRequiresRights: a principal without IAMManager manages nothing; an
// IAMManager on all projects does, in its organization only.
func TestIAMRequiresRights(t *testing.T) {
	n := nodetest.Start(t)
	admin := as(t, n)
	p := n.Creds.ProjectID
	ctxOf := func(k *coffer.APIKeySecret) context.Context {
		c, err := n.Engine.AuthenticateSecretKey(context.Background(), k.SecretKey)
		if err != nil {
			t.Fatal(err)
		}
		return coffer.NewContextWithCaller(context.Background(), c)
	}
	full := ctxOf(grant(t, n, admin, p, "/", coffer.SecretManagerFullAccess).key)
	if _, err := n.Engine.CreatePrincipal(full, coffer.PrincipalCreate{Kind: coffer.PrincipalUser, Name: "x"}); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		t.Fatalf("FullAccess creating a principal: %v", err)
	}
	if _, err := n.Engine.CreateProject(full, "x"); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		t.Fatalf("FullAccess creating a project: %v", err)
	}
	// IAMManager limited to one project is not enough.
	one := ctxOf(grant(t, n, admin, p, "/", coffer.IAMManager).key)
	if _, err := n.Engine.ListPrincipals(one); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		t.Fatalf("project IAMManager: %v", err)
	}
	iam := ctxOf(grant(t, n, admin, "", "/", coffer.IAMManager).key)
	pr, err := n.Engine.CreatePrincipal(iam, coffer.PrincipalCreate{Kind: coffer.PrincipalUser, Name: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreatePolicy(iam, coffer.PolicyCreate{PrincipalID: pr.ID, ProjectID: p, PermissionSets: []coffer.PermissionSet{"Nope"}}); coffer.ErrorCode(err) != coffer.EINVALID {
		t.Fatalf("unknown permission set: %v", err)
	}
	ps, err := n.Engine.ListPrincipals(iam)
	if err != nil || len(ps) != 5 {
		t.Fatalf("principals: %d %v", len(ps), err)
	}
	// An IAM manager cannot touch the organization's admins.
	adminID := coffer.CallerFromContext(admin).Principal.ID
	if err := n.Engine.DeletePrincipal(iam, adminID); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		t.Fatalf("IAMManager deleting the admin: %v", err)
	}
	if _, err := n.Engine.CreateAPIKey(iam, coffer.APIKeyCreate{PrincipalID: adminID}); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		t.Fatalf("IAMManager creating a key for the admin: %v", err)
	}
	if _, err := n.Engine.SetAPIKeyDisabled(iam, n.Creds.AccessKey, true); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		t.Fatalf("IAMManager disabling the admin's key: %v", err)
	}
	// A principal of another organization's view: none; and no one deletes
	// itself.
	self := coffer.CallerFromContext(iam).Principal.ID
	if err := n.Engine.DeletePrincipal(iam, self); coffer.ErrorCode(err) != coffer.EPRECONDITION {
		t.Fatalf("deleting oneself: %v", err)
	}
	// An IAM manager does not read secrets.
	if _, _, err := n.Engine.ListSecrets(iam, coffer.SecretFilter{ProjectID: p}); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		t.Fatalf("IAMManager listing secrets: %v", err)
	}
}
