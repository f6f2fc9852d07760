package ncloud_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// execute opens a rotation job and returns its token.
func (c *client) execute(id, op string) string {
	c.t.Helper()
	r := c.do(http.MethodPost, "/api/v1/secrets/"+id+"/"+op, "")
	if r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != `{"code":"SUCCESS","data":null}` {
		c.t.Fatalf("%s: %d %s", op, r.Status, r.Body)
	}
	tok := r.Header.Get("X-Coffer-Job-Token")
	if len(tok) != 64 {
		c.t.Fatalf("%s: job token %q", op, tok)
	}
	return tok
}

func (c *client) status(id string) string {
	c.t.Helper()
	var d secretDetail
	c.ok(http.MethodGet, "/api/v1/secrets/"+id, "", &d)
	return d.SecretStatus
}

func TestRotation(t *testing.T) {
	n, c, _ := start(t)
	const v1 = `{"user":"app","password":"first"}`
	id := c.create("rotated", v1, "password").SecretID
	job := func(tok, op string) string { return "/action/v1/secrets/" + id + "/jobs/" + tok + "/" + op }

	tok := c.execute(id, "rotation")
	if st := c.status(id); st != "ROTATING" {
		t.Errorf("status during a job: %s", st)
	}
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPost, "/api/v1/secrets/"+id+"/rotation", "")
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPost, "/api/v1/secrets/"+id+"/request-deletion", "")
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPost, job(tok, "pending"), "")

	var ch chain
	c.ok(http.MethodPost, job(tok, "start"), "", &ch)
	if str(ch.DecryptedSecretChain.Active) != v1 || ch.RotationTargets[0] != "password" {
		t.Errorf("start: %+v", ch)
	}
	var p struct{ Pending string }
	c.ok(http.MethodPost, job(tok, "pending"), "", &p)
	var pv map[string]string
	if err := json.Unmarshal([]byte(p.Pending), &pv); err != nil || pv["user"] != "app" || len(pv["password"]) != 12 || pv["password"] == "first" {
		t.Errorf("added pending: %s", p.Pending)
	}
	if st, v := vaultRead(t, c, "rotated"); st != 200 || v != v1 {
		t.Errorf("Vault read during the job: %d %s", st, v)
	}
	c.action(http.MethodPost, job(tok, "complete"), "")
	ch = c.chain(id)
	if str(ch.DecryptedSecretChain.Active) != p.Pending || str(ch.DecryptedSecretChain.Previous) != v1 || ch.DecryptedSecretChain.Pending != nil {
		t.Errorf("chain after complete: %s %s %s", str(ch.DecryptedSecretChain.Previous), str(ch.DecryptedSecretChain.Active), str(ch.DecryptedSecretChain.Pending))
	}
	if st := c.status(id); st != "ENABLE" {
		t.Errorf("status after complete: %s", st)
	}
	if st, v := vaultRead(t, c, "rotated"); st != 200 || v != p.Pending {
		t.Errorf("Vault read after complete: %d %s", st, v)
	}
	if st, v := scalewayAccess(t, c, id); st != 200 || v != p.Pending {
		t.Errorf("Scaleway access after complete: %d %s", st, v)
	}
	// The job is over: its token does nothing more.
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPost, job(tok, "complete"), "")

	// Rollback: the previous value is active again, for every dialect.
	c.action(http.MethodPost, "/api/v1/secrets/"+id+"/rollback-rotation", "")
	ch = c.chain(id)
	if str(ch.DecryptedSecretChain.Active) != v1 || str(ch.DecryptedSecretChain.Previous) != p.Pending {
		t.Errorf("chain after rollback: %s %s", str(ch.DecryptedSecretChain.Previous), str(ch.DecryptedSecretChain.Active))
	}
	if st, v := vaultRead(t, c, "rotated"); st != 200 || v != v1 {
		t.Errorf("Vault read after rollback: %d %s", st, v)
	}

	// A job that writes its own pending value, then fails; a retry;
	// a cancel.
	tok = c.execute(id, "rotation")
	c.ok(http.MethodPost, job(tok, "start"), "", nil)
	var rnd struct{ RandomString string }
	c.ok(http.MethodPost, job(tok, "generate-random-secret"), `{"length":20,"excludePunctuation":true,"includeSpace":false}`, &rnd)
	if len(rnd.RandomString) != 20 || strings.ContainsAny(rnd.RandomString, " !#$%") {
		t.Errorf("random string %q", rnd.RandomString)
	}
	c.ok(http.MethodPut, job(tok, "pending"), `{"value":"{\"user\":\"app\",\"password\":\"`+rnd.RandomString+`\"}"}`, &p)
	c.action(http.MethodPost, job(tok, "fail"), "")
	if ch := c.chain(id); ch.DecryptedSecretChain.Pending != nil || str(ch.DecryptedSecretChain.Active) != v1 {
		t.Errorf("chain after fail: %+v", ch)
	}
	if st := c.status(id); st != "ENABLE" {
		t.Errorf("status after fail: %s", st)
	}
	old := tok
	tok = c.execute(id, "retry-rotation")
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodPost, job(old, "start"), "")
	c.ok(http.MethodPost, job(tok, "start"), "", nil)
	c.action(http.MethodPost, "/api/v1/secrets/"+id+"/cancel-rotation", "")
	if st := c.status(id); st != "ENABLE" {
		t.Errorf("status after cancel: %s", st)
	}
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPost, "/api/v1/secrets/"+id+"/retry-rotation", "")
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPost, "/api/v1/secrets/"+id+"/cancel-rotation", "")

	// Refusals that change nothing.
	other := c.create("other", `{"k":"v"}`, "k").SecretID
	tok = c.execute(id, "rotation")
	for _, tc := range []struct {
		name, method, p, body string
		status                int
		code                  string
	}{
		{"unknown token", http.MethodPost, job(strings.Repeat("0", 64), "start"), "", 404, "NOT_FOUND"},
		{"token of another secret", http.MethodPost, "/action/v1/secrets/" + other + "/jobs/" + tok + "/start", "", 404, "NOT_FOUND"},
		{"complete before start", http.MethodPost, job(tok, "complete"), "", 409, "INVALID_STATUS"},
		{"pending before start", http.MethodPut, job(tok, "pending"), `{"value":"{}"}`, 409, "INVALID_STATUS"},
		{"random too short", http.MethodPost, job(tok, "generate-random-secret"), `{"length":4}`, 400, "INVALID_REQUEST"},
		{"pending not an object", http.MethodPut, job(tok, "pending"), `{"value":"x"}`, 400, "INVALID_REQUEST"},
		{"unknown job operation", http.MethodPost, job(tok, "finish"), "", 404, "NOT_FOUND"},
		{"rollback while rotating", http.MethodPost, "/api/v1/secrets/" + id + "/rollback-rotation", "", 409, "INVALID_STATUS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := state(t, n)
			c.fail(tc.status, tc.code, tc.method, tc.p, tc.body)
			unchanged(t, n, before, tc.name)
		})
	}
	c.regional().ok(http.MethodPost, "/action/v1/secrets/"+id+"/jobs/"+tok+"/start", "", nil)
}
