package imco_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// okmsVersion is a version as an OKMS domain answers it.
type okmsVersion struct {
	ID    int               `json:"id"`
	State string            `json:"state"`
	Data  map[string]string `json:"data"`
}

// okmsCurrent reads a secret's current version, with its data, from an
// OKMS domain (a coffer node's OKMS API): nil when there is no such secret.
func okmsCurrent(t *testing.T, n *nodetest.Node, path string) *okmsVersion {
	t.Helper()
	req, err := http.NewRequest("GET", n.URL+"/api/"+n.Creds.ProjectID+"/v2/secret/"+url.PathEscape(path)+"?includeData=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.Creds.SecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	var s struct {
		Version okmsVersion `json:"version"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &s) != nil {
		t.Fatalf("OKMS GET %s: %d %s", path, resp.StatusCode, body)
	}
	return &s.Version
}

// okmsCreate writes a secret to an OKMS domain behind coffer's back.
func okmsCreate(t *testing.T, n *nodetest.Node, path, data string) {
	t.Helper()
	req, err := http.NewRequest("POST", n.URL+"/api/"+n.Creds.ProjectID+"/v2/secret",
		strings.NewReader(`{"path":"`+path+`","version":{"data":`+data+`}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.Creds.SecretKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("OKMS create %s: %d %s", path, resp.StatusCode, body)
	}
}

// TestSyncToOKMS deploys a key vault to an OKMS domain (a second node's
// OKMS API) with a bearer token: versions pushed once each, a wrong
// credential failing the push until the vault's credential is changed,
// decommission, and a brownfield import.
func TestSyncToOKMS(t *testing.T) {
	target := nodetest.Start(t)
	src := nodetest.Start(t)
	c := newClient(t, src, src.Creds.SecretKey)

	var v keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "ovh", "project_id": src.Creds.ProjectID, "target_kind": "okms", "target_address": target.URL,
		"target_okms_id": target.Creds.ProjectID, "target_credential": target.Creds.SecretKey,
	}), &v)
	var got map[string]any
	c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+v.ID, "", &got)
	if got["target_okms_id"] != target.Creds.ProjectID || strings.Contains(jsonBody(t, got), target.Creds.SecretKey) {
		t.Fatalf("key vault = %v", got)
	}

	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+v.ID+"/secrets", `{"name":"db","content":"{\"user\":\"app\",\"pw\":\"1\"}"}`, &s)
	runSync(t, src)
	s = wantState(t, c, s.ID, "available")
	if s.RemoteID != "db" {
		t.Fatalf("remote id %q, want the path db", s.RemoteID)
	}
	if cur := okmsCurrent(t, target, "db"); cur == nil || cur.ID != 1 || cur.Data["pw"] != "1" || cur.Data["user"] != "app" {
		t.Fatalf("the domain's db = %+v", cur)
	}
	c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"plain"}`, nil)
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	if cur := okmsCurrent(t, target, "db"); cur == nil || cur.ID != 2 || cur.Data["value"] != "plain" {
		t.Fatalf("the domain's db after a second version = %+v", cur)
	}
	if n := runSync(t, src); n != 0 {
		t.Fatalf("an idle pass did %d actions", n)
	}

	// A revoked token: the push fails and says why; the vault's credential
	// changed (not its domain, which is refused by name), a retry deploys.
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID, `{"target_credential":"00000000-0000-0000-0000-000000000000"}`, nil)
	c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"plain-3"}`, nil)
	runSync(t, src)
	if e := wantState(t, c, s.ID, "updating_error"); !strings.Contains(e.ErrorMessage, "401") {
		t.Fatalf("error %q", e.ErrorMessage)
	}
	if e := c.fail(http.StatusUnprocessableEntity, "PUT", "/v3/secret/key_vaults/"+v.ID, `{"target_okms_id":"other"}`); e.Errors["target_okms_id"] == nil {
		t.Fatalf("a new domain: %+v", e)
	}
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID, jsonBody(t, map[string]string{"target_credential": target.Creds.SecretKey}), nil)
	c.ok(http.StatusOK, "PUT", "/v3/secret/secrets/"+s.ID+"/retry", "", nil)
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	if cur := okmsCurrent(t, target, "db"); cur == nil || cur.ID != 3 || cur.Data["value"] != "plain-3" {
		t.Fatalf("the domain's db after the retry = %+v", cur)
	}

	// Brownfield: a secret the domain holds is imported with its value.
	okmsCreate(t, target, "legacy", `{"token":"t0"}`)
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID+"/import", "", nil)
	var secrets []secret
	c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+v.ID+"/secrets", "", &secrets)
	var legacy *secret
	for i := range secrets {
		if secrets[i].Name == "legacy" {
			legacy = &secrets[i]
		}
	}
	if legacy == nil || !legacy.Brownfield || legacy.RemoteID != "legacy" {
		t.Fatalf("imported secrets = %+v", secrets)
	}

	// Deleted, the secret is decommissioned: the domain's copy goes.
	c.ok(http.StatusOK, "DELETE", "/v3/secret/secrets/"+s.ID, "", nil)
	runSync(t, src)
	if cur := okmsCurrent(t, target, "db"); cur != nil {
		t.Fatalf("the domain still holds db: %+v", cur)
	}
}

// TestSyncToOKMSWithCertificate deploys to an OKMS domain served over TLS
// with the domain's access certificate, trusting its CA only.
func TestSyncToOKMSWithCertificate(t *testing.T) {
	target := nodetest.Start(t)
	tlsURL, caPEM := serveTLS(t, target)
	src := nodetest.Start(t)
	c := newClient(t, src, src.Creds.SecretKey)

	body := map[string]any{
		"name": "ovh-mtls", "project_id": src.Creds.ProjectID, "target_kind": "okms", "target_address": tlsURL,
		"target_okms_id": target.Creds.ProjectID, "target_credential": string(clientCertificate(t, target, target.Creds.ProjectID)),
	}
	// Without the CA, the domain's certificate is not trusted.
	var v keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, body), &v)
	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+v.ID+"/secrets", `{"name":"tls","content":"{\"k\":\"v\"}"}`, &s)
	runSync(t, src)
	if e := wantState(t, c, s.ID, "stalled"); !strings.Contains(e.ErrorMessage, "certificate") {
		t.Fatalf("error %q", e.ErrorMessage)
	}
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID, jsonBody(t, map[string]string{"target_ca_certificate": string(caPEM)}), nil)
	c.ok(http.StatusOK, "PUT", "/v3/secret/secrets/"+s.ID+"/retry", "", nil)
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	if cur := okmsCurrent(t, target, "tls"); cur == nil || cur.Data["k"] != "v" {
		t.Fatalf("the domain's tls = %+v", cur)
	}

	// A credential that is neither a token nor a certificate with its key.
	body["name"], body["target_credential"] = "broken", "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n"
	if e := c.fail(http.StatusUnprocessableEntity, "POST", "/v3/secret/key_vaults", jsonBody(t, body)); len(e.Errors) == 0 {
		t.Fatalf("a broken certificate: %+v", e)
	}
}
