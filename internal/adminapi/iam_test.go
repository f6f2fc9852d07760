package adminapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// do sends an admin API request with a bearer token.
func do(t *testing.T, n *nodetest.Node, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.URL+"/coffer/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
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

func TestSystem(t *testing.T) {
	n := nodetest.Start(t)
	status, m := do(t, n, n.Creds.SecretKey, "GET", "/system", "")
	want := "sqlite"
	if n.Store != "" {
		want = "postgres"
	}
	if status != 200 || m["store"] != want || m["version"] == "" {
		t.Fatalf("system: %d %v", status, m)
	}
	if status, _ := do(t, n, "", "GET", "/system", ""); status != 401 {
		t.Fatalf("system without a token: %d", status)
	}
}

// TestOpenAPIListsEveryRoute: the document lists each route, and each
// route it lists is served: none answers "no such route".
func TestOpenAPIListsEveryRoute(t *testing.T) {
	n := nodetest.Start(t)
	status, doc := do(t, n, n.Creds.SecretKey, "GET", "/openapi.json", "")
	if status != 200 || doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi.json: %d %v", status, doc)
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, want := range []string{"/projects", "/principals", "/principals/{id}", "/api-keys", "/api-keys/{access_key}",
		"/policies", "/policies/{id}", "/system", "/openapi.json", "/certificates", "/ca", "/audit"} {
		if paths["/coffer/v1"+want] == nil {
			t.Errorf("openapi.json lacks %s", want)
		}
	}
	n2 := 0
	for p, item := range paths {
		for method := range item.(map[string]any) {
			path := strings.NewReplacer("{id}", "00000000-0000-0000-0000-000000000000", "{access_key}", "SCWAAAAAAAAAAAAAAAAA",
				"{serial}", "0a").Replace(strings.TrimPrefix(p, "/coffer/v1"))
			body := ""
			if method == "post" || method == "patch" {
				body = "{}"
			}
			if path == "/backup" {
				// Its answer is a dump, not JSON (TestBackupRoute).
				if status := postDump(t, n, n.Creds.SecretKey); status != 200 {
					t.Errorf("POST /backup: %d", status)
				}
				n2++
				continue
			}
			_, m := do(t, n, n.Creds.SecretKey, strings.ToUpper(method), path, body)
			if e, _ := m["error"].(map[string]any); e != nil && strings.Contains(e["message"].(string), "no such route") {
				t.Errorf("%s %s is documented but not served", method, p)
			}
			n2++
		}
	}
	if n2 < 20 {
		t.Errorf("only %d operations documented", n2)
	}
}

// TestIAMRoutes walks principals, keys and policies over HTTP.
func TestIAMRoutes(t *testing.T) {
	n := nodetest.Start(t)
	admin := n.Creds.SecretKey
	status, p := do(t, n, admin, "POST", "/principals", `{"kind":"application","name":"ci"}`)
	if status != 201 {
		t.Fatalf("create principal: %d %v", status, p)
	}
	id := p["id"].(string)
	status, pol := do(t, n, admin, "POST", "/policies",
		`{"principal_id":"`+id+`","project_id":"`+n.Creds.ProjectID+`","path_prefix":"/ci","permission_sets":["SecretManagerSecretCreate"]}`)
	if status != 201 || pol["path_prefix"] != "/ci" {
		t.Fatalf("create policy: %d %v", status, pol)
	}
	status, k := do(t, n, admin, "POST", "/api-keys", `{"principal_id":"`+id+`","description":"ci"}`)
	if status != 201 || k["secret_key"] == "" || k["default_project_id"] != n.Creds.ProjectID {
		t.Fatalf("create key: %d %v", status, k)
	}
	secretKey, access := k["secret_key"].(string), k["access_key"].(string)
	// The new key may not manage IAM.
	if status, m := do(t, n, secretKey, "GET", "/principals", ""); status != 403 {
		t.Fatalf("principals with a non-IAM key: %d %v", status, m)
	}
	status, list := do(t, n, admin, "GET", "/api-keys?principal_id="+id, "")
	keys, _ := list["api_keys"].([]any)
	if status != 200 || len(keys) != 1 || keys[0].(map[string]any)["secret_key"] != nil {
		t.Fatalf("list keys: %d %v", status, list)
	}
	if status, m := do(t, n, admin, "PATCH", "/api-keys/"+access, `{"disabled":true}`); status != 200 || m["disabled"] != true {
		t.Fatalf("disable: %d %v", status, m)
	}
	if status, _ := do(t, n, secretKey, "GET", "/projects", ""); status != 401 {
		t.Fatalf("disabled key: %d", status)
	}
	if status, _ := do(t, n, admin, "DELETE", "/policies/"+pol["id"].(string), ""); status != 204 {
		t.Fatalf("delete policy: %d", status)
	}
	if status, _ := do(t, n, admin, "DELETE", "/principals/"+id, ""); status != 204 {
		t.Fatalf("delete principal: %d", status)
	}
	if status, _ := do(t, n, admin, "GET", "/principals/"+id, ""); status != 404 {
		t.Fatalf("deleted principal: %d", status)
	}
	if status, m := do(t, n, admin, "POST", "/principals", `{"kind":"robot","name":"x"}`); status != 400 {
		t.Fatalf("bad kind: %d %v", status, m)
	}
}

// postDump asks for a backup and reads the dump whole.
func postDump(t *testing.T, n *nodetest.Node, secretKey string) int {
	t.Helper()
	req, err := http.NewRequest("POST", n.URL+"/coffer/v1/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secretKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}
