package ncloud_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
)

type secretDetail struct {
	SecretID            string `json:"secretId"`
	SecretName          string `json:"secretName"`
	SecretStatus        string `json:"secretStatus"`
	SecretType          string `json:"secretType"`
	Memo                string `json:"memo"`
	Region              string `json:"region"`
	RegisterDate        int64  `json:"registerDate"`
	UpdateDate          int64  `json:"updateDate"`
	ExpectedDestroyDate *int64 `json:"expectedDestroyDate"`
	AutoRotationYN      string `json:"autoRotationYN"`
	AutoRotationPeriod  int    `json:"autoRotationPeriod"`
	NextRotationDate    *int64 `json:"nextRotationDate"`
	RotationPhase       string `json:"rotationPhase"`
	ProtectionKey       struct {
		Type       string `json:"type"`
		KmsKeyTag  string `json:"kmsKeyTag"`
		KmsKeyName string `json:"kmsKeyName"`
	} `json:"protectionKey"`
}

type chain struct {
	DecryptedSecretChain struct {
		Previous *string `json:"previous"`
		Active   *string `json:"active"`
		Pending  *string `json:"pending"`
	} `json:"decryptedSecretChain"`
	RotationTargets []string `json:"rotationTargets"`
}

// createBody returns the body of POST /secrets.
func createBody(name, value string, targets ...string) string {
	b, _ := json.Marshal(map[string]any{
		"secretName": name, "memo": "memo of " + name, "secretType": "BASIC",
		"secretValue":    map[string]any{"value": value, "rotationTargets": targets},
		"autoRotationYN": "N", "protectionKeyType": "DEFAULT",
	})
	return string(b)
}

func (c *client) create(name, value string, targets ...string) secretDetail {
	c.t.Helper()
	var d secretDetail
	c.ok(http.MethodPost, "/api/v1/secrets", createBody(name, value, targets...), &d)
	return d
}

func (c *client) chain(id string) chain {
	c.t.Helper()
	var ch chain
	c.ok(http.MethodGet, "/api/v1/secrets/"+id+"/values", "", &ch)
	return ch
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// other sends a request of another dialect with the node's admin secret key.
func other(t *testing.T, c *client, method, p, header string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.node.URL+p, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(header, c.node.Creds.SecretKey)
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// vaultRead returns the data Vault KV v2 reads at a secret's path.
func vaultRead(t *testing.T, c *client, path string) (int, string) {
	t.Helper()
	st, b := other(t, c, http.MethodGet, "/v1/secret/data/"+path, "X-Vault-Token")
	if st != http.StatusOK {
		return st, string(b)
	}
	var out struct {
		Data struct {
			Data json.RawMessage `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return st, string(out.Data.Data)
}

// scalewayAccess returns the data of a secret's latest version through Scaleway.
func scalewayAccess(t *testing.T, c *client, id string) (int, string) {
	t.Helper()
	st, b := other(t, c, http.MethodGet, "/secret-manager/v1beta1/regions/fr-par/secrets/"+id+"/versions/latest/access", "X-Auth-Token")
	if st != http.StatusOK {
		return st, string(b)
	}
	var out struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	d, err := base64.StdEncoding.DecodeString(out.Data)
	if err != nil {
		t.Fatal(err)
	}
	return st, string(d)
}

func TestSecretCRUD(t *testing.T) {
	_, c, clock := start(t)
	d := c.create("db-password", `{"user":"app","password":"s3cret"}`, "password")
	want := secretDetail{
		SecretID: d.SecretID, SecretName: "db-password", SecretStatus: "ENABLE", SecretType: "BASIC",
		Memo: "memo of db-password", Region: "KR", RegisterDate: clock.Now().UnixMilli(), UpdateDate: clock.Now().UnixMilli(),
		AutoRotationYN: "N", AutoRotationPeriod: 90, RotationPhase: "NONE",
	}
	want.ProtectionKey.Type, want.ProtectionKey.KmsKeyName = "DEFAULT", "Secret Manager Default Key"
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
	var got secretDetail
	c.ok(http.MethodGet, "/api/v1/secrets/"+d.SecretID, "", &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	c.regional().ok(http.MethodGet, "/api/v1/secrets/"+d.SecretID, "", &got)

	ch := c.chain(d.SecretID)
	if str(ch.DecryptedSecretChain.Active) != `{"user":"app","password":"s3cret"}` || ch.DecryptedSecretChain.Previous != nil ||
		ch.DecryptedSecretChain.Pending != nil || !cmp.Equal(ch.RotationTargets, []string{"password"}) {
		t.Errorf("chain after create: %+v", ch)
	}
	var sv struct {
		DecryptedSecretValue struct{ Value, ValueStage string } `json:"decryptedSecretValue"`
	}
	c.ok(http.MethodGet, "/api/v1/secrets/"+d.SecretID+"/active", "", &sv)
	if sv.DecryptedSecretValue.Value != `{"user":"app","password":"s3cret"}` || sv.DecryptedSecretValue.ValueStage != "ACTIVE" {
		t.Errorf("active stage: %+v", sv)
	}
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodGet, "/api/v1/secrets/"+d.SecretID+"/pending", "")

	// Stage writes: a previous value written above the active one leaves
	// the active one current for Vault and Scaleway.
	var enc struct {
		EncryptedSecretValue struct{ Value, ValueStage string } `json:"encryptedSecretValue"`
	}
	c.ok(http.MethodPut, "/api/v1/secrets/"+d.SecretID+"/values/previous", `{"value":"{\"user\":\"app\",\"password\":\"old\"}"}`, &enc)
	if !strings.HasPrefix(enc.EncryptedSecretValue.Value, "ncpkms:v1:") || enc.EncryptedSecretValue.ValueStage != "previous" {
		t.Errorf("stage write: %+v", enc)
	}
	if st, v := vaultRead(t, c, "db-password"); st != 200 || v != `{"user":"app","password":"s3cret"}` {
		t.Errorf("Vault read after a previous write: %d %s", st, v)
	}
	if st, v := scalewayAccess(t, c, d.SecretID); st != 200 || v != `{"user":"app","password":"s3cret"}` {
		t.Errorf("Scaleway access after a previous write: %d %s", st, v)
	}

	// The whole chain: pending is removed when not given.
	c.ok(http.MethodPut, "/api/v1/secrets/"+d.SecretID+"/values/pending", `{"value":"{\"user\":\"app\",\"password\":\"next\"}"}`, nil)
	if got := c.chain(d.SecretID); str(got.DecryptedSecretChain.Pending) != `{"user":"app","password":"next"}` {
		t.Errorf("pending after its write: %s", str(got.DecryptedSecretChain.Pending))
	}
	if st, v := vaultRead(t, c, "db-password"); st != 200 || v != `{"user":"app","password":"s3cret"}` {
		t.Errorf("Vault read after a pending write: %d %s", st, v)
	}
	c.ok(http.MethodPut, "/api/v1/secrets/"+d.SecretID+"/values", `{"previous":"{\"user\":\"app\",\"password\":\"p\"}","active":"{\"user\":\"app\",\"password\":\"a\"}"}`, nil)
	ch = c.chain(d.SecretID)
	if str(ch.DecryptedSecretChain.Previous) != `{"user":"app","password":"p"}` || str(ch.DecryptedSecretChain.Active) != `{"user":"app","password":"a"}` || ch.DecryptedSecretChain.Pending != nil {
		t.Errorf("chain after a full write: %s %s %s", str(ch.DecryptedSecretChain.Previous), str(ch.DecryptedSecretChain.Active), str(ch.DecryptedSecretChain.Pending))
	}
	if st, v := scalewayAccess(t, c, d.SecretID); st != 200 || v != `{"user":"app","password":"a"}` {
		t.Errorf("Scaleway access after a full write: %d %s", st, v)
	}

	var memo struct{ SecretID, Memo string }
	c.ok(http.MethodPut, "/api/v1/secrets/"+d.SecretID+"/memo", `{"memo":"new memo"}`, &memo)
	if memo.Memo != "new memo" || memo.SecretID != d.SecretID {
		t.Errorf("memo: %+v", memo)
	}

	var keys struct {
		KeyList []map[string]any `json:"keyList"`
	}
	c.ok(http.MethodGet, "/api/v1/keys", "", &keys)
	if len(keys.KeyList) == 0 || keys.KeyList[0]["keyName"] != "Secret Manager Default Key" || keys.KeyList[0]["keyId"] != float64(0) {
		t.Errorf("keys: %+v", keys)
	}
	var triggers struct {
		TriggerList []any `json:"triggerList"`
	}
	c.ok(http.MethodGet, "/api/v1/triggers", "", &triggers)
}

// TestListPaging creates more secrets than a page holds and reads every page.
func TestListPaging(t *testing.T) {
	_, c, clock := start(t)
	var ids []string
	for i := range 45 {
		ids = append(ids, c.create(fmt.Sprintf("s%02d", i), `{"k":"v"}`, "k").SecretID)
		clock.Advance(time.Millisecond)
	}
	var seen []string
	for page := 1; page <= 3; page++ {
		var l struct {
			TotalPageNo, CurrentPageNo, TotalCount int
			SecretList                             []struct{ SecretID, SecretName, SecretStatus string }
		}
		c.ok(http.MethodGet, fmt.Sprintf("/api/v1/secrets?pageNo=%d", page), "", &l)
		if l.TotalPageNo != 3 || l.CurrentPageNo != page || l.TotalCount != 45 {
			t.Errorf("page %d: %+v", page, l)
		}
		for _, s := range l.SecretList {
			seen = append(seen, s.SecretID)
		}
	}
	if diff := cmp.Diff(ids, seen); diff != "" {
		t.Errorf("paged ids (-created +listed):\n%s", diff)
	}
	var l struct{ SecretList []any }
	c.ok(http.MethodGet, "/api/v1/secrets?pageNo=4", "", &l)
	if len(l.SecretList) != 0 {
		t.Errorf("page 4: %d secrets", len(l.SecretList))
	}
	c.fail(http.StatusBadRequest, "INVALID_REQUEST", http.MethodGet, "/api/v1/secrets?pageNo=x", "")
}

// TestOtherDialects: a secret written through Vault, whose name does not
// fit NAVER's rules, is listed and read through NAVER, and its next Vault
// write is NAVER's active value with the old one previous.
func TestOtherDialects(t *testing.T) {
	_, c, _ := start(t)
	put := func(data string) {
		req, _ := http.NewRequest(http.MethodPost, c.node.URL+"/v1/secret/data/apps/x.y", strings.NewReader(`{"data":`+data+`}`))
		req.Header.Set("X-Vault-Token", c.node.Creds.SecretKey)
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("Vault write: %d", res.StatusCode)
		}
	}
	put(`{"a":"1"}`)
	put(`{"a":"2"}`)
	var l struct {
		SecretList []struct{ SecretID, SecretName string }
	}
	c.ok(http.MethodGet, "/api/v1/secrets", "", &l)
	if len(l.SecretList) != 1 || l.SecretList[0].SecretName != "apps/x.y" {
		t.Fatalf("list: %+v", l)
	}
	ch := c.chain(l.SecretList[0].SecretID)
	if str(ch.DecryptedSecretChain.Active) != `{"a":"2"}` || str(ch.DecryptedSecretChain.Previous) != `{"a":"1"}` || ch.DecryptedSecretChain.Pending != nil {
		t.Errorf("chain of a Vault secret: %+v", ch)
	}
}

// TestStatus walks the secret's statuses through NAVER and checks that
// the other dialects see them.
func TestStatus(t *testing.T) {
	n, c, clock := start(t)
	d := c.create("app-key", `{"key":"v1"}`, "key")
	id := d.SecretID
	p := "/api/v1/secrets/" + id
	type statusData struct {
		SecretID, SecretStatus string
		UpdateDate             int64
		ExpectedDestroyDate    *int64
	}
	move := func(op, want string) statusData {
		t.Helper()
		var s statusData
		c.ok(http.MethodPost, p+"/"+op, "", &s)
		if s.SecretStatus != want || s.SecretID != id {
			t.Errorf("%s: %+v, want %s", op, s, want)
		}
		return s
	}
	forbidden := func(method, op string, body ...string) {
		t.Helper()
		before := state(t, n)
		c.fail(http.StatusConflict, "INVALID_STATUS", method, p+op, strings.Join(body, ""))
		unchanged(t, n, before, method+" "+op)
	}
	forbidden(http.MethodPost, "/enable")
	forbidden(http.MethodPost, "/cancel-deletion")
	forbidden(http.MethodDelete, "")

	move("disable", "DISABLE")
	forbidden(http.MethodPost, "/disable")
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodGet, p+"/values", "")
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodGet, p+"/active", "")
	if st, _ := vaultRead(t, c, "app-key"); st == http.StatusOK {
		t.Errorf("Vault reads a disabled secret")
	}
	if st, _ := scalewayAccess(t, c, id); st == http.StatusOK {
		t.Errorf("Scaleway reads a disabled secret")
	}
	move("enable", "ENABLE")
	if st, v := vaultRead(t, c, "app-key"); st != http.StatusOK || v != `{"key":"v1"}` {
		t.Errorf("Vault read of the enabled secret: %d %s", st, v)
	}

	s := move("request-deletion", "REVOKE")
	if s.ExpectedDestroyDate == nil || *s.ExpectedDestroyDate != clock.Now().Add(coffer.DeletionDelay).UnixMilli() {
		t.Errorf("expectedDestroyDate %v", s.ExpectedDestroyDate)
	}
	forbidden(http.MethodPost, "/disable")
	forbidden(http.MethodPost, "/enable")
	forbidden(http.MethodPut, "/values/active", `{"value":"{\"key\":\"v2\"}"}`)
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodGet, p+"/values", "")
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPut, p+"/memo", `{"memo":"x"}`)
	if st, _ := scalewayAccess(t, c, id); st == http.StatusOK {
		t.Errorf("Scaleway reads a secret scheduled for deletion")
	}
	move("cancel-deletion", "DISABLE")
	move("request-deletion", "REVOKE")
	c.action(http.MethodDelete, p, "")
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodGet, p, "")

	// A secret whose deletion date passes is destroyed by the due job.
	d = c.create("app-key2", `{"key":"v1"}`, "key")
	c.ok(http.MethodPost, "/api/v1/secrets/"+d.SecretID+"/request-deletion", "", nil)
	clock.Advance(coffer.DeletionDelay + time.Second)
	if _, err := n.Engine.RunDue(adminContext(t, n)); err != nil {
		t.Fatal(err)
	}
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodGet, "/api/v1/secrets/"+d.SecretID, "")
}

// TestBadInput: each refused request gets NAVER's envelope and status and
// changes nothing.
func TestBadInput(t *testing.T) {
	n, c, _ := start(t)
	d := c.create("good", `{"k":"v"}`, "k")
	p := "/api/v1/secrets/" + d.SecretID
	big := `{"k":"` + strings.Repeat("x", 10000) + `"}`
	bigJSON, _ := json.Marshal(map[string]string{"value": big})
	for _, tc := range []struct {
		name, method, p, body string
		status                int
		code                  string
	}{
		{"value over 10000 bytes", http.MethodPost, "/api/v1/secrets", createBody("big", big, "k"), 400, "INVALID_REQUEST"},
		{"value not an object", http.MethodPost, "/api/v1/secrets", createBody("arr", `["k"]`, "k"), 400, "INVALID_REQUEST"},
		{"value not JSON", http.MethodPost, "/api/v1/secrets", createBody("txt", `k=v`, "k"), 400, "INVALID_REQUEST"},
		{"no rotation targets", http.MethodPost, "/api/v1/secrets", createBody("nt", `{"k":"v"}`), 400, "INVALID_REQUEST"},
		{"target not in value", http.MethodPost, "/api/v1/secrets", createBody("nt", `{"k":"v"}`, "x"), 400, "INVALID_REQUEST"},
		{"name too short", http.MethodPost, "/api/v1/secrets", createBody("ab", `{"k":"v"}`, "k"), 400, "INVALID_REQUEST"},
		{"name with a digit first", http.MethodPost, "/api/v1/secrets", createBody("1abc", `{"k":"v"}`, "k"), 400, "INVALID_REQUEST"},
		{"name with a slash", http.MethodPost, "/api/v1/secrets", createBody("a/bc", `{"k":"v"}`, "k"), 400, "INVALID_REQUEST"},
		{"name taken", http.MethodPost, "/api/v1/secrets", createBody("good", `{"k":"v"}`, "k"), 422, "UNPROCESSABLE_ENTITY"},
		{"body not JSON", http.MethodPost, "/api/v1/secrets", `{`, 400, "INVALID_REQUEST"},
		{"secret type", http.MethodPost, "/api/v1/secrets", strings.Replace(createBody("st", `{"k":"v"}`, "k"), "BASIC", "OTHER", 1), 400, "INVALID_REQUEST"},
		{"stage value over 10000 bytes", http.MethodPut, p + "/values/active", string(bigJSON), 400, "INVALID_REQUEST"},
		{"stage value not an object", http.MethodPut, p + "/values/active", `{"value":"[]"}`, 400, "INVALID_REQUEST"},
		{"stage value missing", http.MethodPut, p + "/values/active", `{}`, 400, "INVALID_REQUEST"},
		{"wrong stage name in a write", http.MethodPut, p + "/values/current", `{"value":"{}"}`, 400, "INVALID_REQUEST"},
		{"upper-case stage name", http.MethodGet, p + "/ACTIVE", "", 400, "INVALID_REQUEST"},
		{"wrong stage name", http.MethodGet, p + "/latest", "", 400, "INVALID_REQUEST"},
		{"chain without active", http.MethodPut, p + "/values", `{"previous":"{}"}`, 400, "INVALID_REQUEST"},
		{"memo too long", http.MethodPut, p + "/memo", `{"memo":"` + strings.Repeat("m", 1001) + `"}`, 400, "INVALID_REQUEST"},
		{"unknown secret", http.MethodGet, "/api/v1/secrets/00000000-0000-4000-8000-000000000000", "", 404, "NOT_FOUND"},
		{"unknown operation", http.MethodPost, p + "/explode", "", 404, "NOT_FOUND"},
		{"wrong method", http.MethodPatch, p, "", 404, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := state(t, n)
			c.fail(tc.status, tc.code, tc.method, tc.p, tc.body)
			unchanged(t, n, before, tc.name)
		})
	}
}

// TestDeletionDelayPerProject: the project's waiting period, set through
// the admin API, dates request-deletion and the due job destroys on it.
func TestDeletionDelayPerProject(t *testing.T) {
	n, c, clock := start(t)
	admin := func(body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPatch, n.URL+"/coffer/v1/projects/"+n.Creds.ProjectID, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+n.Creds.SecretKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, bad := range []string{`{"deletion_delay_days":91}`, `{"deletion_delay_days":-1}`, `{"deletion_delay":3}`} {
		if st, _ := admin(bad); st != http.StatusBadRequest {
			t.Errorf("PATCH %s: %d, want 400", bad, st)
		}
	}
	if st, body := admin(`{"deletion_delay_days":3}`); st != http.StatusOK || !strings.Contains(body, `"deletion_delay_days":3`) {
		t.Fatalf("PATCH project: %d %s", st, body)
	}
	const delay = 3 * 24 * time.Hour
	d := c.create("short-lived", `{"key":"v1"}`, "key")
	var s struct{ ExpectedDestroyDate *int64 }
	c.ok(http.MethodPost, "/api/v1/secrets/"+d.SecretID+"/request-deletion", "", &s)
	if s.ExpectedDestroyDate == nil || *s.ExpectedDestroyDate != clock.Now().Add(delay).UnixMilli() {
		t.Errorf("expectedDestroyDate %v, want now + 3 days", s.ExpectedDestroyDate)
	}
	clock.Advance(delay - time.Second)
	if _, err := n.Engine.RunDue(adminContext(t, n)); err != nil {
		t.Fatal(err)
	}
	c.ok(http.MethodGet, "/api/v1/secrets/"+d.SecretID, "", nil)
	clock.Advance(2 * time.Second)
	if _, err := n.Engine.RunDue(adminContext(t, n)); err != nil {
		t.Fatal(err)
	}
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodGet, "/api/v1/secrets/"+d.SecretID, "")

	// 0 restores the default.
	if st, body := admin(`{"deletion_delay_days":0}`); st != http.StatusOK || !strings.Contains(body, `"deletion_delay_days":7`) {
		t.Fatalf("PATCH project: %d %s", st, body)
	}
	d = c.create("long-lived", `{"key":"v1"}`, "key")
	c.ok(http.MethodPost, "/api/v1/secrets/"+d.SecretID+"/request-deletion", "", &s)
	if s.ExpectedDestroyDate == nil || *s.ExpectedDestroyDate != clock.Now().Add(coffer.DeletionDelay).UnixMilli() {
		t.Errorf("expectedDestroyDate %v, want now + 7 days", s.ExpectedDestroyDate)
	}
}
