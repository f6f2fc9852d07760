package node_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// badText is a request of one dialect that carries text no dialect may
// accept, and what its refusal looks like in that dialect's format: a 400,
// or for IMCO, whose validation errors are 422s, a 422.
type badText struct {
	name         string
	method, path string
	body         string
	// format is a part of the body that only this dialect's error format
	// holds.
	format string
}

// ncloudHeaders signs a NAVER request (signature v2) with the node's admin
// key.
func ncloudHeaders(n *nodetest.Node, method, uri string) []string {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(n.Creds.SecretKey))
	mac.Write([]byte(method + " " + uri + "\n" + ts + "\n" + n.Creds.AccessKey))
	return []string{
		"x-ncp-apigw-timestamp", ts, "x-ncp-iam-access-key", n.Creds.AccessKey,
		"x-ncp-apigw-signature-v2", base64.StdEncoding.EncodeToString(mac.Sum(nil)),
	}
}

// TestBadTextRefusedByEveryDialect sends, through every dialect, a JSON or
// key-value payload that is not UTF-8 and names holding a NUL: each is the
// same refusal (EINVALID, the dialect's 400 in its format, recorded as
// invalid), and nothing is stored.
func TestBadTextRefusedByEveryDialect(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	proj := n.Creds.ProjectID
	// What the refused requests could have written to.
	kv, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: proj, Name: "kv", Path: "/probe", Type: coffer.TypeKeyValue})
	if err != nil {
		t.Fatal(err)
	}
	vault, err := n.Engine.CreateKeyVault(ctx, coffer.KeyVaultCreate{ProjectID: proj, Name: "vault"})
	if err != nil {
		t.Fatal(err)
	}
	principals := countPrincipals(t, ctx, n)
	projects := countProjects(t, ctx, n)

	const (
		notUTF8 = "\xff\xfe"
		nul     = `a\u0000b` // a NUL, escaped in JSON
	)
	scw := "/secret-manager/v1beta1/regions/fr-par"
	b64 := base64.StdEncoding.EncodeToString
	scwFormat, vaultFormat, okmsFormat := `"type":"invalid_arguments"`, `{"errors":[`, `"error_code":50405377`
	ncloudFormat, imcoFormat, adminFormat := `"errorCode":"INVALID_REQUEST"`, `{"errors":{`, `"code":"invalid"`
	cases := []badText{
		// A payload that is not UTF-8.
		{"scaleway key_value data", "POST", scw + "/secrets/" + kv.ID + "/versions",
			fmt.Sprintf(`{"data":%q}`, b64([]byte(`{"user":"`+notUTF8+`"}`))), scwFormat},
		{"scaleway body", "POST", scw + "/secrets",
			fmt.Sprintf(`{"project_id":%q,"name":"n","description":"%s"}`, proj, notUTF8), scwFormat},
		{"vault data", "POST", "/v1/secret/data/probe/utf8", `{"data":{"a":"` + notUTF8 + `"}}`, vaultFormat},
		{"okms create", "POST", "/api/" + proj + "/v2/secret",
			`{"path":"probe/utf8","version":{"data":{"a":"` + notUTF8 + `"}}}`, okmsFormat},
		{"okms version", "POST", "/api/" + proj + "/v2/secret/probe%2Fkv/version",
			`{"data":{"a":"` + notUTF8 + `"}}`, okmsFormat},
		{"okms vault api", "POST", "/api/" + proj + "/v1/secret/data/probe/utf8", `{"data":{"a":"` + notUTF8 + `"}}`, vaultFormat},
		{"ncloud value", "POST", "/api/v1/secrets",
			`{"secretName":"utfeight","secretType":"BASIC","autoRotationYN":"N","protectionKeyType":"DEFAULT",` +
				`"secretValue":{"value":"{\"a\":\"` + notUTF8 + `\"}"}}`, ncloudFormat},
		{"imco content", "POST", "/v3/secret/key_vaults/" + vault.ID + "/secrets",
			`{"name":"utf8","content":"` + notUTF8 + `"}`, imcoFormat},
		{"admin name", "POST", "/coffer/v1/principals", `{"kind":"user","name":"` + notUTF8 + `"}`, adminFormat},

		// A NUL in a name.
		{"scaleway secret name", "POST", scw + "/secrets", fmt.Sprintf(`{"project_id":%q,"name":"%s"}`, proj, nul), scwFormat},
		{"scaleway path", "POST", scw + "/secrets", fmt.Sprintf(`{"project_id":%q,"name":"n","path":"/%s"}`, proj, nul), scwFormat},
		{"scaleway tag", "POST", scw + "/secrets", fmt.Sprintf(`{"project_id":%q,"name":"n","tags":["%s"]}`, proj, nul), scwFormat},
		{"vault path", "POST", "/v1/secret/data/probe/a%00b", `{"data":{"a":"b"}}`, vaultFormat},
		{"okms path", "POST", "/api/" + proj + "/v2/secret", `{"path":"probe/` + nul + `","version":{"data":{"a":"b"}}}`, okmsFormat},
		{"ncloud name", "POST", "/api/v1/secrets",
			`{"secretName":"` + nul + `","secretType":"BASIC","autoRotationYN":"N","protectionKeyType":"DEFAULT",` +
				`"secretValue":{"value":"{\"a\":\"b\"}"}}`, ncloudFormat},
		{"imco key vault name", "POST", "/v3/secret/key_vaults", fmt.Sprintf(`{"project_id":%q,"name":"%s"}`, proj, nul), imcoFormat},
		{"imco secret name", "POST", "/v3/secret/key_vaults/" + vault.ID + "/secrets", `{"name":"` + nul + `","content":"x"}`, imcoFormat},
		{"imco label name", "POST", "/v3/labels", `{"name":"` + nul + `"}`, imcoFormat},
		{"admin principal name", "POST", "/coffer/v1/principals", `{"kind":"user","name":"` + nul + `"}`, adminFormat},
		{"admin project name", "POST", "/coffer/v1/projects", `{"name":"` + nul + `"}`, adminFormat},
	}
	var ids []string
	for _, tc := range cases {
		headers := []string{"Authorization", "Bearer " + n.Creds.SecretKey}
		switch {
		case strings.HasPrefix(tc.path, scw):
			headers = []string{"X-Auth-Token", n.Creds.SecretKey}
		case strings.HasPrefix(tc.path, "/v1/"):
			headers = []string{"X-Vault-Token", n.Creds.SecretKey}
		case strings.HasPrefix(tc.path, "/api/v1/"):
			headers = ncloudHeaders(n, tc.method, tc.path)
		}
		code, body, id := auditCall(t, n, tc.method, tc.path, tc.body, headers...)
		if code != invalidStatus(tc.path) || !strings.Contains(body, tc.format) {
			t.Errorf("%s: %d %s, want a %d holding %s", tc.name, code, body, invalidStatus(tc.path), tc.format)
		}
		if strings.Contains(body, notUTF8) || strings.ContainsRune(body, 0) {
			t.Errorf("%s: the answer holds the text it refused: %q", tc.name, body)
		}
		ids = append(ids, id)
	}

	recs := auditRecords(t, ctx, n)
	for i, id := range ids {
		r := byRequestID(t, recs, id)
		if r.Outcome != coffer.AuditError || r.Status != invalidStatus(cases[i].path) || r.ErrorCode != coffer.EINVALID {
			t.Errorf("%s: recorded %s %d %q, want error %d invalid", cases[i].name, r.Outcome, r.Status, r.ErrorCode, invalidStatus(cases[i].path))
		}
	}
	secrets, _, err := n.Engine.ListSecrets(ctx, coffer.SecretFilter{ProjectID: proj})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 1 || secrets[0].ID != kv.ID || secrets[0].LastRevision != 0 {
		t.Errorf("secrets after the refusals: %d, want the one made before, without versions", len(secrets))
	}
	if got := countPrincipals(t, ctx, n); got != principals {
		t.Errorf("%d principals after the refusals, want %d", got, principals)
	}
	if got := countProjects(t, ctx, n); got != projects {
		t.Errorf("%d projects after the refusals, want %d", got, projects)
	}
}

// invalidStatus is the status of EINVALID in the dialect of path.
func invalidStatus(path string) int {
	if strings.HasPrefix(path, "/v3/") {
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

func countPrincipals(t *testing.T, ctx context.Context, n *nodetest.Node) int {
	t.Helper()
	ps, err := n.Engine.ListPrincipals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

func countProjects(t *testing.T, ctx context.Context, n *nodetest.Node) int {
	t.Helper()
	ps, err := n.Engine.ListProjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

// TestAuditRecordsTheCodeOfRefusals reads the records of requests that the
// dialects refuse before the engine is asked, or answer as done although
// the engine refused: each names the code of what happened, never
// internal, and a refusal answered as done is not recorded as ok.
func TestAuditRecordsTheCodeOfRefusals(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	proj := n.Creds.ProjectID
	bearer := []string{"Authorization", "Bearer " + n.Creds.SecretKey}
	for _, tc := range []struct {
		name, path string
		headers    []string
		code       string
	}{
		{"scaleway bad path", "/secret-manager/v1beta1/regions/fr-par/secrets/../secrets", []string{"X-Auth-Token", n.Creds.SecretKey}, coffer.EINVALID},
		{"vault bad path", "/v1/secret/data/a/../b", []string{"X-Vault-Token", n.Creds.SecretKey}, coffer.EINVALID},
		{"vault no route", "/v1/nosuch/x", []string{"X-Vault-Token", n.Creds.SecretKey}, coffer.ENOTFOUND},
		{"okms bad path", "/api/" + proj + "/v2/secret/a/../b", bearer, coffer.EINVALID},
		{"okms no route", "/api/" + proj + "/v2/nosuch", bearer, coffer.ENOTFOUND},
		{"okms vault bad path", "/api/" + proj + "/v1/secret/data/a/./b", bearer, coffer.EINVALID},
		{"ncloud bad path", "/api/v1/secrets/x/../y", ncloudHeaders(n, "GET", "/api/v1/secrets/x/../y"), coffer.EINVALID},
		{"imco bad path", "/v3/secret//key_vaults", bearer, coffer.EINVALID},
		{"imco no route", "/v3/nosuch", bearer, coffer.ENOTFOUND},
		{"admin bad path", "/coffer/v1/principals/../projects", bearer, coffer.EINVALID},
	} {
		code, body, id := auditCall(t, n, "GET", tc.path, "", tc.headers...)
		r := byRequestID(t, auditRecords(t, ctx, n), id)
		if r.Status != code || r.ErrorCode != tc.code || r.Outcome != coffer.AuditError {
			t.Errorf("%s: answered %d %s, recorded %d %s %q; want error %q", tc.name, code, body, r.Status, r.Outcome, r.ErrorCode, tc.code)
		}
	}

	// A principal limited to /allowed deletes, through Vault, a key
	// outside its prefix: Vault answers 204 as for a key that does not
	// exist, and the record says that the engine found nothing.
	other, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: proj, Name: "key", Path: "/other", Type: coffer.TypeKeyValue})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Engine.CreateVersion(ctx, other.ID, coffer.VersionCreate{Data: coffer.Payload(`{"a":"b"}`)}); err != nil {
		t.Fatal(err)
	}
	p, err := n.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "limited"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreatePolicy(ctx, coffer.PolicyCreate{
		PrincipalID: p.ID, ProjectID: proj, PathPrefix: "/allowed",
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerFullAccess},
	}); err != nil {
		t.Fatal(err)
	}
	key, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: p.ID, DefaultProjectID: proj})
	if err != nil {
		t.Fatal(err)
	}
	limited := []string{"X-Vault-Token", key.SecretKey}
	for _, tc := range []struct{ method, path, body string }{
		{"DELETE", "/v1/secret/data/other/key", ""},
		{"DELETE", "/v1/secret/metadata/other/key", ""},
		{"POST", "/v1/secret/delete/other/key", `{"versions":[1]}`},
		{"POST", "/v1/secret/destroy/other/key", `{"versions":[1]}`},
		{"DELETE", "/v1/secret/data/allowed/nothing", ""},
	} {
		code, body, id := auditCall(t, n, tc.method, tc.path, tc.body, limited...)
		if code != http.StatusNoContent {
			t.Errorf("%s %s: %d %s, want Vault's 204", tc.method, tc.path, code, body)
		}
		r := byRequestID(t, auditRecords(t, ctx, n), id)
		if r.Status != http.StatusNoContent || r.Outcome != coffer.AuditError || r.ErrorCode != coffer.ENOTFOUND {
			t.Errorf("%s %s: recorded %d %s %q, want 204 error not_found", tc.method, tc.path, r.Status, r.Outcome, r.ErrorCode)
		}
	}
	if v, err := n.Engine.GetVersion(ctx, other.ID, coffer.RevisionN(1)); err != nil || v.State != coffer.VersionEnabled {
		t.Fatalf("the version outside the prefix after the deletes: %+v, %v", v, err)
	}
	// The same delete by the admin, who may: ok.
	code, _, id := auditCall(t, n, "DELETE", "/v1/secret/data/other/key", "", "X-Vault-Token", n.Creds.SecretKey)
	if r := byRequestID(t, auditRecords(t, ctx, n), id); code != http.StatusNoContent || r.Outcome != coffer.AuditOK || r.ErrorCode != "" {
		t.Errorf("admin delete: %d, recorded %s %q, want ok", code, r.Outcome, r.ErrorCode)
	}
}

// TestBadTextStoredIsNotReadAsJSON reads, through Vault and OKMS, data that
// looks like a JSON object but is not UTF-8, written as bytes (an opaque
// Scaleway version, or one stored before JSON payloads were checked): a
// 400 that says it is not a JSON object, never the raw bytes inside JSON;
// Scaleway still returns the bytes.
func TestBadTextStoredIsNotReadAsJSON(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Name: "raw", Path: "/probe", Type: coffer.TypeOpaque})
	if err != nil {
		t.Fatal(err)
	}
	data := "{\"a\":\"\xff\"}"
	if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload(data)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, header, value string }{
		{"/v1/secret/data/probe/raw", "X-Vault-Token", n.Creds.SecretKey},
		{"/api/" + n.Creds.ProjectID + "/v2/secret/probe%2Fraw?includeData=true", "Authorization", "Bearer " + n.Creds.SecretKey},
	} {
		code, body, _ := auditCall(t, n, "GET", tc.path, "", tc.header, tc.value)
		if code != http.StatusBadRequest || !strings.Contains(body, "JSON object") || strings.Contains(body, "\xff") {
			t.Errorf("GET %s: %d %q, want a 400 saying it holds no JSON object", tc.path, code, body)
		}
	}
	code, body, _ := auditCall(t, n, "GET", "/secret-manager/v1beta1/regions/fr-par/secrets/"+s.ID+"/versions/1/access", "",
		"X-Auth-Token", n.Creds.SecretKey)
	if want := base64.StdEncoding.EncodeToString([]byte(data)); code != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("Scaleway access: %d %s, want the bytes %s", code, body, want)
	}
}
