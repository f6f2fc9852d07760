package imco_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	scwsecret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"

	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestSyncToNCloud deploys a key vault to a NAVER Cloud Secret Manager (a
// second node's NAVER API on its regional path, so the signed URI holds the
// /secretmanager prefix): versions pushed once each to the active stage, a
// replaced API key, decommission, and a brownfield import. The target's
// side is read through its Scaleway API: the same secrets.
func TestSyncToNCloud(t *testing.T) {
	target := nodetest.Start(t)
	src := nodetest.Start(t)
	c := newClient(t, src, src.Creds.SecretKey)
	api := scwAPI(t, target)
	latest := func(id string) map[string]string {
		t.Helper()
		v, err := api.AccessSecretVersion(&scwsecret.AccessSecretVersionRequest{SecretID: id, Revision: "latest"})
		if err != nil {
			t.Fatalf("the target's %s: %v", id, err)
		}
		var m map[string]string
		if err := json.Unmarshal(v.Data, &m); err != nil {
			t.Fatalf("the target's %s holds %q", id, v.Data)
		}
		return m
	}

	var v keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "naver", "project_id": src.Creds.ProjectID, "target_kind": "ncloud", "target_address": target.URL + "/secretmanager",
		"target_access_key": target.Creds.AccessKey, "target_credential": target.Creds.SecretKey,
	}), &v)
	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+v.ID+"/secrets", `{"name":"dbpass","content":"{\"user\":\"app\",\"pw\":\"1\"}"}`, &s)
	runSync(t, src)
	s = wantState(t, c, s.ID, "available")
	if s.RemoteID == "" {
		t.Fatal("no remote id")
	}
	if m := latest(s.RemoteID); m["user"] != "app" || m["pw"] != "1" {
		t.Fatalf("the target's dbpass = %v", m)
	}
	c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"plain"}`, nil)
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	if m := latest(s.RemoteID); m["value"] != "plain" {
		t.Fatalf("the target's dbpass after a second version = %v", m)
	}
	if n := runSync(t, src); n != 0 {
		t.Fatalf("an idle pass did %d actions", n)
	}

	// A revoked secret key fails the push; a new API key (access key and
	// secret key) set on the vault, a retry deploys.
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID, `{"target_credential":"not-the-key"}`, nil)
	c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"plain-3"}`, nil)
	runSync(t, src)
	if e := wantState(t, c, s.ID, "updating_error"); !strings.Contains(e.ErrorMessage, "401") {
		t.Fatalf("error %q", e.ErrorMessage)
	}
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID, jsonBody(t, map[string]string{
		"target_access_key": target.Creds.AccessKey, "target_credential": target.Creds.SecretKey}), nil)
	c.ok(http.StatusOK, "PUT", "/v3/secret/secrets/"+s.ID+"/retry", "", nil)
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	if m := latest(s.RemoteID); m["value"] != "plain-3" {
		t.Fatalf("the target's dbpass after the retry = %v", m)
	}

	// Brownfield: a secret the target holds is imported with its value.
	if _, err := api.CreateSecret(&scwsecret.CreateSecretRequest{Name: "legacy"}); err != nil {
		t.Fatal(err)
	}
	var legacyID string
	if list, err := api.ListSecrets(&scwsecret.ListSecretsRequest{Name: ptr("legacy")}); err != nil || len(list.Secrets) != 1 {
		t.Fatalf("legacy: %v, %v", list, err)
	} else {
		legacyID = list.Secrets[0].ID
	}
	if _, err := api.CreateSecretVersion(&scwsecret.CreateSecretVersionRequest{SecretID: legacyID, Data: []byte(`{"token":"t0"}`)}); err != nil {
		t.Fatal(err)
	}
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID+"/import", "", nil)
	var secrets []secret
	c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+v.ID+"/secrets", "", &secrets)
	found := false
	for _, x := range secrets {
		found = found || x.Name == "legacy" && x.Brownfield && x.RemoteID == legacyID
	}
	if !found {
		t.Fatalf("imported secrets = %+v", secrets)
	}

	// Deleted, the secret is decommissioned: the target's copy goes.
	c.ok(http.StatusOK, "DELETE", "/v3/secret/secrets/"+s.ID, "", nil)
	runSync(t, src)
	if rs, err := api.GetSecret(&scwsecret.GetSecretRequest{SecretID: s.RemoteID}); err == nil && rs.DeletionRequestedAt == nil {
		t.Fatalf("the target still holds dbpass: %+v", rs)
	}

	// An access key is a NAVER target's only.
	var o keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "ovh", "project_id": src.Creds.ProjectID, "target_kind": "okms", "target_address": target.URL,
		"target_okms_id": target.Creds.ProjectID, "target_credential": target.Creds.SecretKey,
	}), &o)
	if e := c.fail(http.StatusUnprocessableEntity, "PUT", "/v3/secret/key_vaults/"+o.ID, `{"target_access_key":"x"}`); e.Errors["target_access_key"] == nil {
		t.Fatalf("an access key on an OKMS target: %+v", e)
	}
	if e := c.fail(http.StatusUnprocessableEntity, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "nokey", "project_id": src.Creds.ProjectID, "target_kind": "ncloud", "target_address": target.URL,
		"target_credential": target.Creds.SecretKey,
	})); e.Errors["target_access_key"] == nil {
		t.Fatalf("a NAVER target without access key: %+v", e)
	}
}
