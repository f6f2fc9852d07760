package adminapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
)

// scaleway sends a Scaleway Secret Manager request (fr-par) with
// X-Auth-Token.
func scaleway(t *testing.T, n *nodetest.Node, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.URL+"/secret-manager/v1beta1/regions/fr-par"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode, m
}

// orgNames lists the names of the organizations a key sees.
func orgNames(t *testing.T, n *nodetest.Node, token string) []string {
	t.Helper()
	status, m := do(t, n, token, "GET", "/organizations", "")
	if status != 200 {
		t.Fatalf("list organizations: %d %v", status, m)
	}
	var names []string
	for _, o := range m["organizations"].([]any) {
		names = append(names, o.(map[string]any)["name"].(string))
	}
	return names
}

// errCode returns the code of an admin API error body.
func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// TestOrganizationCreate: the bootstrap admin, an operator, creates an
// organization; its admin key works at once on the Scaleway API of the new
// project, sees nothing of the first organization, and sees only its own
// organization in the admin API.
func TestOrganizationCreate(t *testing.T) {
	n := nodetest.Start(t)
	op := n.Creds.SecretKey
	if got := orgNames(t, n, op); len(got) != 1 || got[0] != "default" {
		t.Fatalf("organizations at first start: %v", got)
	}
	status, sys := do(t, n, op, "GET", "/organizations/"+n.Creds.OrganizationID, "")
	if status != 200 || sys["name"] != "default" {
		t.Fatalf("get system organization: %d %v", status, sys)
	}
	// A secret of the first organization, that the new one must not see.
	status, first := scaleway(t, n, op, "POST", "/secrets", `{"name":"first","project_id":"`+n.Creds.ProjectID+`"}`)
	if status != 200 {
		t.Fatalf("create secret in the first organization: %d %v", status, first)
	}

	status, m := do(t, n, op, "POST", "/organizations", `{"name":"Acme, Inc."}`)
	if status != 201 {
		t.Fatalf("create organization: %d %v", status, m)
	}
	org := m["organization"].(map[string]any)
	orgID, project, secretKey := org["id"].(string), m["project_id"].(string), m["secret_key"].(string)
	if org["name"] != "Acme, Inc." || orgID == n.Creds.OrganizationID || project == "" || project == n.Creds.ProjectID ||
		!strings.HasPrefix(m["access_key"].(string), "SCW") || secretKey == "" || m["admin_principal_id"] == "" {
		t.Fatalf("create organization: %v", m)
	}
	if status, m := do(t, n, op, "POST", "/organizations", `{"name":"Acme, Inc."}`); status != 409 || errCode(m) != coffer.ECONFLICT {
		t.Fatalf("second organization of the same name: %d %v", status, m)
	}
	if got := orgNames(t, n, op); len(got) != 2 || got[0] != "default" || got[1] != "Acme, Inc." {
		t.Fatalf("organizations, operator: %v", got)
	}
	if status, m := do(t, n, op, "GET", "/organizations/"+orgID, ""); status != 200 || m["name"] != "Acme, Inc." {
		t.Fatalf("operator gets the new organization: %d %v", status, m)
	}

	// The new admin key works on the Scaleway API of the new project.
	status, s := scaleway(t, n, secretKey, "POST", "/secrets", `{"name":"db","project_id":"`+project+`"}`)
	if status != 200 || s["project_id"] != project {
		t.Fatalf("create secret with the new organization's key: %d %v", status, s)
	}
	if status, v := scaleway(t, n, secretKey, "POST", "/secrets/"+s["id"].(string)+"/versions", `{"data":"aGk="}`); status != 200 {
		t.Fatalf("create version: %d %v", status, v)
	}
	// It cannot see the first organization's secrets or project.
	if status, m := scaleway(t, n, secretKey, "GET", "/secrets/"+first["id"].(string), ""); status != 404 {
		t.Fatalf("first organization's secret with the new key: %d %v", status, m)
	}
	if status, m := scaleway(t, n, secretKey, "GET", "/secrets?project_id="+n.Creds.ProjectID, ""); status != 404 {
		t.Fatalf("first organization's project with the new key: %d %v", status, m)
	}
	// Nor may the first organization's admin see the new one's secrets:
	// operators run the store, they do not read other organizations.
	if status, m := scaleway(t, n, op, "GET", "/secrets/"+s["id"].(string), ""); status != 404 {
		t.Fatalf("new organization's secret with the operator key: %d %v", status, m)
	}

	// The new admin manages its own organization only.
	if got := orgNames(t, n, secretKey); len(got) != 1 || got[0] != "Acme, Inc." {
		t.Fatalf("organizations, new admin: %v", got)
	}
	if status, m := do(t, n, secretKey, "GET", "/organizations/"+n.Creds.OrganizationID, ""); status != 404 || errCode(m) != coffer.ENOTFOUND {
		t.Fatalf("system organization, new admin: %d %v", status, m)
	}
	if status, m := do(t, n, secretKey, "GET", "/organizations/"+orgID, ""); status != 200 || m["id"] != orgID {
		t.Fatalf("own organization, new admin: %d %v", status, m)
	}
	if status, m := do(t, n, secretKey, "POST", "/organizations", `{"name":"nested"}`); status != 403 || errCode(m) != coffer.EFORBIDDEN {
		t.Fatalf("create organization, new admin: %d %v", status, m)
	}
	status, ps := do(t, n, secretKey, "GET", "/principals", "")
	principals, _ := ps["principals"].([]any)
	if status != 200 || len(principals) != 1 || principals[0].(map[string]any)["name"] != "admin" || principals[0].(map[string]any)["admin"] != true {
		t.Fatalf("principals, new admin: %d %v", status, ps)
	}
	status, prs := do(t, n, secretKey, "GET", "/projects", "")
	projects, _ := prs["projects"].([]any)
	if status != 200 || len(projects) != 1 || projects[0].(map[string]any)["id"] != project {
		t.Fatalf("projects, new admin: %d %v", status, prs)
	}
	if got := orgNames(t, n, op); len(got) != 2 {
		t.Fatalf("organizations after refused creations: %v", got)
	}
}

// TestOrganizationForbidden: a principal with IAMManager on all projects
// sees its own organization, but creates neither organizations nor admin
// principals, and its refused requests create nothing. An admin may create
// another admin, which, in the system organization, is an operator too.
func TestOrganizationForbidden(t *testing.T) {
	n := nodetest.Start(t)
	op := n.Creds.SecretKey
	status, p := do(t, n, op, "POST", "/principals", `{"kind":"user","name":"iam"}`)
	if status != 201 || p["admin"] != false {
		t.Fatalf("create principal: %d %v", status, p)
	}
	iamID := p["id"].(string)
	if status, m := do(t, n, op, "POST", "/policies", `{"principal_id":"`+iamID+`","permission_sets":["IAMManager"]}`); status != 201 {
		t.Fatalf("create policy: %d %v", status, m)
	}
	status, k := do(t, n, op, "POST", "/api-keys", `{"principal_id":"`+iamID+`"}`)
	if status != 201 {
		t.Fatalf("create key: %d %v", status, k)
	}
	iam := k["secret_key"].(string)

	if got := orgNames(t, n, iam); len(got) != 1 || got[0] != "default" {
		t.Fatalf("organizations, IAM manager: %v", got)
	}
	if status, m := do(t, n, iam, "GET", "/organizations/"+n.Creds.OrganizationID, ""); status != 200 {
		t.Fatalf("own organization, IAM manager: %d %v", status, m)
	}
	if status, m := do(t, n, iam, "POST", "/organizations", `{"name":"rogue"}`); status != 403 || errCode(m) != coffer.EFORBIDDEN {
		t.Fatalf("create organization, IAM manager: %d %v", status, m)
	}
	if got := orgNames(t, n, op); len(got) != 1 {
		t.Fatalf("organizations after a refused creation: %v", got)
	}
	countPrincipals := func() int {
		t.Helper()
		status, m := do(t, n, op, "GET", "/principals", "")
		if status != 200 {
			t.Fatalf("list principals: %d %v", status, m)
		}
		return len(m["principals"].([]any))
	}
	before := countPrincipals()
	for _, kind := range []string{"user", "application"} {
		if status, m := do(t, n, iam, "POST", "/principals", `{"kind":"`+kind+`","name":"boss","admin":true}`); status != 403 || errCode(m) != coffer.EFORBIDDEN {
			t.Fatalf("create admin principal, IAM manager: %d %v", status, m)
		}
	}
	if got := countPrincipals(); got != before {
		t.Fatalf("principals after refused creations: %d, want %d", got, before)
	}
	// A plain principal it may create.
	if status, m := do(t, n, iam, "POST", "/principals", `{"kind":"application","name":"app","admin":false}`); status != 201 || m["admin"] != false {
		t.Fatalf("create principal, IAM manager: %d %v", status, m)
	}

	// An admin creates an admin; the IAM manager may not give it a key.
	status, a := do(t, n, op, "POST", "/principals", `{"kind":"user","name":"ops","admin":true}`)
	if status != 201 || a["admin"] != true {
		t.Fatalf("create admin principal: %d %v", status, a)
	}
	adminID := a["id"].(string)
	if status, m := do(t, n, op, "GET", "/principals/"+adminID, ""); status != 200 || m["admin"] != true {
		t.Fatalf("get admin principal: %d %v", status, m)
	}
	if status, m := do(t, n, iam, "POST", "/api-keys", `{"principal_id":"`+adminID+`"}`); status != 403 {
		t.Fatalf("key for an admin, IAM manager: %d %v", status, m)
	}
	if status, m := do(t, n, iam, "POST", "/policies", `{"principal_id":"`+adminID+`","permission_sets":["AuditReader"]}`); status != 403 {
		t.Fatalf("policy for an admin, IAM manager: %d %v", status, m)
	}
	if status, m := do(t, n, iam, "DELETE", "/principals/"+adminID, ""); status != 403 {
		t.Fatalf("delete an admin, IAM manager: %d %v", status, m)
	}
	status, ak := do(t, n, op, "POST", "/api-keys", `{"principal_id":"`+adminID+`"}`)
	if status != 201 {
		t.Fatalf("key for an admin: %d %v", status, ak)
	}
	ops := ak["secret_key"].(string)
	if status, m := do(t, n, ops, "POST", "/organizations", `{"name":"second"}`); status != 201 {
		t.Fatalf("create organization, second operator: %d %v", status, m)
	}

	// Without IAM rights, organizations are forbidden altogether.
	status, p = do(t, n, op, "POST", "/principals", `{"kind":"application","name":"reader"}`)
	if status != 201 {
		t.Fatalf("create principal: %d %v", status, p)
	}
	status, k = do(t, n, op, "POST", "/api-keys", `{"principal_id":"`+p["id"].(string)+`"}`)
	if status != 201 {
		t.Fatalf("create key: %d %v", status, k)
	}
	reader := k["secret_key"].(string)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/organizations", ""},
		{"GET", "/organizations/" + n.Creds.OrganizationID, ""},
		{"POST", "/organizations", `{"name":"third"}`},
		{"POST", "/principals", `{"kind":"user","name":"boss","admin":true}`},
	} {
		if status, m := do(t, n, reader, r.method, r.path, r.body); status != 403 {
			t.Errorf("%s %s without IAM rights: %d %v", r.method, r.path, status, m)
		}
	}
	if got := orgNames(t, n, op); len(got) != 2 {
		t.Fatalf("organizations: %v", got)
	}
}

// TestOrganizationBadInput: malformed requests are refused with the admin
// API's 400 (413 for a body over the limit) and create nothing.
func TestOrganizationBadInput(t *testing.T) {
	n := nodetest.Start(t)
	op := n.Creds.SecretKey
	for _, tt := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"malformed", `{"name":`, 400, "body"},
		{"not an object", `["x"]`, 400, "body"},
		{"two objects", `{"name":"a"}{"name":"b"}`, 400, "body"},
		{"unknown field", `{"name":"a","admin":true}`, 400, "body"},
		{"wrong type", `{"name":7}`, 400, "body"},
		{"no name", `{}`, 400, "name"},
		{"empty name", `{"name":""}`, 400, "name"},
		{"name too long", `{"name":"` + strings.Repeat("é", 128) + `"}`, 400, "name"},
		{"body too large", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, 413, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, m := do(t, n, op, "POST", "/organizations", tt.body)
			if status != tt.status {
				t.Fatalf("%d %v, want %d", status, m, tt.status)
			}
			e, _ := m["error"].(map[string]any)
			if tt.field != "" && (e["code"] != coffer.EINVALID || e["field"] != tt.field) {
				t.Fatalf("error %v, want invalid %s", m, tt.field)
			}
		})
	}
	for _, id := range []string{"nope", "00000000-0000-0000-0000-00000000000g"} {
		if status, m := do(t, n, op, "GET", "/organizations/"+id, ""); status != 400 || errCode(m) != coffer.EINVALID {
			t.Errorf("get organization %q: %d %v", id, status, m)
		}
	}
	if status, m := do(t, n, op, "GET", "/organizations/00000000-0000-4000-8000-000000000000", ""); status != 404 {
		t.Errorf("get a missing organization: %d %v", status, m)
	}
	if got := orgNames(t, n, op); len(got) != 1 {
		t.Fatalf("organizations after bad requests: %v", got)
	}
	// The longest name is 255 bytes.
	if status, m := do(t, n, op, "POST", "/organizations", `{"name":"`+strings.Repeat("é", 127)+`a"}`); status != 201 {
		t.Fatalf("255-byte name: %d %v", status, m)
	}
	if status, m := do(t, n, op, "POST", "/principals", `{"kind":"user","name":"x","admin":"yes"}`); status != 400 {
		t.Fatalf("admin not a boolean: %d %v", status, m)
	}
}

// TestOrganizationSystemRecorded: a store bootstrapped before the system
// organization was recorded gets it at the next start: the oldest
// organization, whose admin is then an operator; an organization created
// later does not take the role.
func TestOrganizationSystemRecorded(t *testing.T) {
	n := nodetest.Start(t)
	n.Stop(t)

	// Make the store look bootstrapped by an older coffer, with a second
	// organization created after the first.
	ctx := context.Background()
	var s storage.Store
	var err error
	if n.Store == "" {
		s, err = sqlite.Open(filepath.Join(n.DataDir, node.DatabaseFile))
	} else {
		s, err = postgres.Open(ctx, n.Store, postgres.Options{NoMigrate: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx storage.Tx) error {
		if err := tx.PutMeta(ctx, "organization.system", nil); err != nil {
			return err
		}
		return tx.CreateOrganization(ctx, &coffer.Organization{
			ID: "00000000-0000-4000-8000-000000000001", Name: "later", CreatedAt: time.Now().Add(time.Hour).UTC(),
		})
	})
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	n2 := nodetest.Start(t, nodetest.WithStore(n.Store), nodetest.WithDataDir(n.DataDir, n.RootKey))
	if got := orgNames(t, n2, n.Creds.SecretKey); len(got) != 2 || got[0] != "default" || got[1] != "later" {
		t.Fatalf("organizations, bootstrap admin: %v", got)
	}
	if status, m := do(t, n2, n.Creds.SecretKey, "POST", "/organizations", `{"name":"new"}`); status != 201 {
		t.Fatalf("create organization, bootstrap admin: %d %v", status, m)
	}
}
