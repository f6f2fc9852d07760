package ncloud_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// TestProtectionKey re-seals a secret's versions under a user-managed key
// and back: the values read the same through every dialect, the stored
// ciphertexts change, and refused changes change nothing.
func TestProtectionKey(t *testing.T) {
	n, c, _ := start(t)
	const v1, v2 = `{"password":"first"}`, `{"password":"second"}`
	id := c.create("keyed", v1, "password").SecretID
	c.ok(http.MethodPut, "/api/v1/secrets/"+id+"/values/active", `{"value":`+quote(v2)+`}`, nil)
	keyID, err := n.Engine.CreateProtectionKey(adminContext(t, n), n.Creds.ProjectID, "app-key")
	if err != nil {
		t.Fatal(err)
	}
	versions := func() []byte { return state(t, n)["versions"] }
	before := versions()

	var out struct {
		SecretID      string `json:"secretId"`
		ProtectionKey struct {
			Type      string `json:"type"`
			KmsKeyTag string `json:"kmsKeyTag"`
		} `json:"protectionKey"`
	}
	c.ok(http.MethodPut, "/api/v1/secrets/"+id+"/protection-key", `{"protectionKeyType":"USER_MANAGED_KEY","kmsKeyTag":"`+keyID+`"}`, &out)
	if out.SecretID != id || out.ProtectionKey.Type != "USER_MANAGED_KEY" || out.ProtectionKey.KmsKeyTag != keyID {
		t.Errorf("answer: %+v", out)
	}
	after := versions()
	if bytes.Equal(before, after) {
		t.Error("the versions were not re-sealed")
	}
	ch := c.chain(id)
	if str(ch.DecryptedSecretChain.Active) != v2 || ch.DecryptedSecretChain.Previous != nil {
		t.Errorf("chain after the change: %s, %s", str(ch.DecryptedSecretChain.Previous), str(ch.DecryptedSecretChain.Active))
	}
	if st, v := vaultRead(t, c, "keyed"); st != 200 || v != v2 {
		t.Errorf("Vault: %d %s", st, v)
	}
	var d secretDetail
	c.ok(http.MethodGet, "/api/v1/secrets/"+id, "", &d)
	if d.ProtectionKey.Type != "USER_MANAGED_KEY" {
		t.Errorf("detail: %+v", d.ProtectionKey)
	}
	// New versions are sealed under it too, and the way back works.
	c.ok(http.MethodPut, "/api/v1/secrets/"+id+"/values/active", `{"value":`+quote(v1)+`}`, nil)
	c.ok(http.MethodPut, "/api/v1/secrets/"+id+"/protection-key", `{"protectionKeyType":"DEFAULT"}`, &out)
	if out.ProtectionKey.Type != "DEFAULT" {
		t.Errorf("back to DEFAULT: %+v", out)
	}
	if st, v := scalewayAccess(t, c, id); st != 200 || v != v1 {
		t.Errorf("Scaleway: %d %s", st, v)
	}

	s := state(t, n)
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodPut, "/api/v1/secrets/"+id+"/protection-key", `{"protectionKeyType":"USER_MANAGED_KEY","kmsKeyTag":"00000000-0000-4000-8000-000000000000"}`)
	c.fail(http.StatusBadRequest, "INVALID_REQUEST", http.MethodPut, "/api/v1/secrets/"+id+"/protection-key", `{"protectionKeyType":"USER_MANAGED_KEY"}`)
	c.fail(http.StatusBadRequest, "INVALID_REQUEST", http.MethodPut, "/api/v1/secrets/"+id+"/protection-key", `{"protectionKeyType":"OTHER"}`)
	unchanged(t, n, s, "refused protection key changes")
	c.ok(http.MethodPost, "/api/v1/secrets/"+id+"/request-deletion", "", nil)
	s = state(t, n)
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPut, "/api/v1/secrets/"+id+"/protection-key", `{"protectionKeyType":"USER_MANAGED_KEY","kmsKeyTag":"`+keyID+`"}`)
	unchanged(t, n, s, "a change of a revoked secret's key")
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
