package okms_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The OKMS path a/b/c is the Scaleway secret named c in the folder /a/b:
// both dialects are views of the same secrets.

// scw sends a Scaleway API request as the node's admin and decodes the
// JSON answer, which must have status.
func scw(t *testing.T, c *client, status int, method, p, body string) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.node.URL+"/secret-manager/v1beta1/regions/fr-par"+p, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", c.node.Creds.SecretKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("Scaleway %s %s: %d, want %d: %s", method, p, res.StatusCode, status, b)
	}
	if len(b) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("Scaleway %s %s: %v: %s", method, p, err, b)
	}
	return m
}

// scwSecretID returns the id of the Scaleway secret at folder and name.
func scwSecretID(t *testing.T, c *client, folder, name string) string {
	t.Helper()
	m := scw(t, c, 200, "GET", "/secrets?project_id="+c.okmsID+"&path="+url.QueryEscape(folder)+"&name="+url.QueryEscape(name), "")
	secrets, _ := m["secrets"].([]any)
	if len(secrets) != 1 {
		t.Fatalf("Scaleway secrets at %s %s: %v", folder, name, m)
	}
	return secrets[0].(map[string]any)["id"].(string)
}

// scwData returns the data of a Scaleway version, decoded from base64.
func scwData(t *testing.T, c *client, id, rev string) []byte {
	t.Helper()
	m := scw(t, c, 200, "GET", "/secrets/"+id+"/versions/"+rev+"/access", "")
	b, err := base64.StdEncoding.DecodeString(m["data"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWriteOKMSReadScaleway: the data object is stored exactly as received,
// byte for byte, whitespace, escapes and number spellings included.
func TestWriteOKMSReadScaleway(t *testing.T) {
	_, c, _ := start(t)
	data := []string{
		`{ "user" : "admin",` + "\n\t" + `"pass":"p\u00e9<&>\/" , "n": 1.50e+2, "nested": {"a": [1, true, null]} }`,
		`{"k":"v"}`,
		`{}`,
	}
	create := []byte(`{"path":"team/app/db","version":{"data":` + data[0] + `}}`)
	c.ok(200, "POST", "/secret", string(create))
	c.ok(200, "PUT", "/secret/team%2Fapp%2Fdb", `{"version":{"data":`+data[1]+`}}`)
	c.ok(200, "POST", "/secret/team%2Fapp%2Fdb/version", `{"data":`+data[2]+`}`)

	id := scwSecretID(t, c, "/team/app", "db")
	for i, want := range data {
		if got := scwData(t, c, id, strconv.Itoa(i+1)); !bytes.Equal(got, []byte(want)) {
			t.Errorf("revision %d through Scaleway: %q, want the bytes sent %q", i+1, got, want)
		}
	}
	s := scw(t, c, 200, "GET", "/secrets/"+id, "")
	if s["name"] != "db" || s["path"] != "/team/app" || s["type"] != "opaque" {
		t.Errorf("Scaleway secret: name %v path %v type %v", s["name"], s["path"], s["type"])
	}

	// The same data read through OKMS is the same JSON value; HTML
	// characters are not escaped.
	body := c.ok(200, "GET", "/secret/team%2Fapp%2Fdb/version/1?includeData=true", "")
	if !bytes.Contains(body, []byte(`"p\u00e9<&>\/"`)) {
		t.Errorf("OKMS data re-encoded: %s", body)
	}
	var got struct{ Data json.RawMessage }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(data[0])); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, compact.Bytes()) {
		t.Errorf("OKMS data %s, want %s", got.Data, compact.Bytes())
	}

	// A flat object makes a key_value secret, as a Vault write does.
	c.ok(200, "POST", "/secret", `{"path":"flat","version":{"data":{"a":"b","n":1}}}`)
	if s := scw(t, c, 200, "GET", "/secrets/"+scwSecretID(t, c, "/", "flat"), ""); s["type"] != "key_value" {
		t.Errorf("flat object: type %v, want key_value", s["type"])
	}
}

// TestStatesAcrossDialects: deactivated is Scaleway's disabled, deleted its
// destroyed ("deleted" in its listing), and back.
func TestStatesAcrossDialects(t *testing.T) {
	_, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"x/y","version":{"data":{"a":"1"}}}`)
	c.ok(200, "PUT", "/secret/x%2Fy", `{"version":{"data":{"a":"2"}}}`)
	c.ok(200, "PUT", "/secret/x%2Fy", `{"version":{"data":{"a":"3"}}}`)
	id := scwSecretID(t, c, "/x", "y")
	status := func(rev string) any { return scw(t, c, 200, "GET", "/secrets/"+id+"/versions/"+rev, "")["status"] }

	c.ok(200, "PUT", "/secret/x%2Fy/version/1", `{"state":"deactivated"}`)
	if s := status("1"); s != "disabled" {
		t.Errorf("deactivated through OKMS: Scaleway status %v, want disabled", s)
	}
	scw(t, c, 412, "GET", "/secrets/"+id+"/versions/1/access", "")
	c.ok(200, "PUT", "/secret/x%2Fy/version/1", `{"state":"active"}`)
	if s := status("1"); s != "enabled" {
		t.Errorf("activated through OKMS: Scaleway status %v, want enabled", s)
	}
	c.ok(200, "PUT", "/secret/x%2Fy/version/2", `{"state":"deleted"}`)
	if s := status("2"); s != "deleted" {
		t.Errorf("deleted through OKMS: Scaleway status %v, want deleted", s)
	}

	// Scaleway's disable is OKMS's deactivated; its deletion schedule,
	// which OKMS has no word for, shows as deactivated too.
	scw(t, c, 200, "POST", "/secrets/"+id+"/versions/3/disable", "{}")
	m := object(t, c.ok(200, "GET", "/secret/x%2Fy/version/3?includeData=true", ""))
	if field(m, "state") != "deactivated" || field(m, "deactivatedAt") == nil || field(m, "data") != nil {
		t.Errorf("disabled through Scaleway: %v", m)
	}
	scw(t, c, 200, "POST", "/secrets/"+id+"/versions/3/enable", "{}")
	scw(t, c, 204, "DELETE", "/secrets/"+id+"/versions/1", "")
	m = object(t, c.ok(200, "GET", "/secret/x%2Fy/version/1?includeData=true", ""))
	if field(m, "state") != "deactivated" || field(m, "deactivatedAt") == nil || field(m, "data") != nil {
		t.Errorf("scheduled for deletion through Scaleway: %v", m)
	}
	versions := array(t, c.ok(200, "GET", "/secret/x%2Fy/version", ""))
	var states []string
	for _, v := range versions {
		states = append(states, str(field(v, "state")))
	}
	if strings.Join(states, ",") != "deactivated,deleted,active" {
		t.Errorf("states %v", states)
	}

	// Deleting through OKMS removes the secret everywhere, at once.
	c.ok(204, "DELETE", "/secret/x%2Fy", "")
	scw(t, c, 404, "GET", "/secrets/"+id, "")
}

// scwReadOnce creates, through the Scaleway API, a secret in folder whose
// versions expire once accessed, with action, and one version of data; it
// returns the secret's id.
func scwReadOnce(t *testing.T, c *client, folder, name, typ, action string, data []byte) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"project_id": c.okmsID, "name": name, "path": folder, "type": typ,
		"ephemeral_policy": map[string]any{"expires_once_accessed": true, "action": action},
	})
	id := scw(t, c, 200, "POST", "/secrets", string(body))["id"].(string)
	scw(t, c, 200, "POST", "/secrets/"+id+"/versions", `{"data":"`+base64.StdEncoding.EncodeToString(data)+`"}`)
	return id
}

// TestWriteScalewayReadOKMS: a Scaleway secret is an OKMS secret at its
// full path; a value that is not a JSON object cannot be shown as OKMS data
// and is a clear error, while its metadata stays readable.
func TestWriteScalewayReadOKMS(t *testing.T) {
	_, c, _ := start(t)
	s := scw(t, c, 200, "POST", "/secrets", `{"project_id":"`+c.okmsID+`","name":"cfg","path":"/svc"}`)
	id := s["id"].(string)
	scw(t, c, 200, "POST", "/secrets/"+id+"/versions", `{"data":"`+base64.StdEncoding.EncodeToString([]byte(`{"a":"b"}`))+`"}`)
	scw(t, c, 200, "POST", "/secrets/"+id+"/versions", `{"data":"`+base64.StdEncoding.EncodeToString([]byte("not json at all"))+`"}`)
	scw(t, c, 200, "POST", "/secrets/"+id+"/versions", `{"data":"`+base64.StdEncoding.EncodeToString([]byte(`["an","array"]`))+`"}`)

	m := object(t, c.ok(200, "GET", "/secret/svc%2Fcfg?version=1&includeData=true", ""))
	if field(m, "version.data.a") != "b" || str(field(m, "metadata.currentVersion")) != "3" {
		t.Errorf("Scaleway secret through OKMS: %v", m)
	}
	for _, rev := range []string{"2", "3"} {
		msgs := c.fail(400, 50405377, "GET", "/secret/svc%2Fcfg/version/"+rev+"?includeData=true", "")
		if len(msgs) != 1 || !strings.Contains(msgs[0], "not a JSON object") {
			t.Errorf("version %s: %q, want a message that says the data is not a JSON object", rev, msgs)
		}
		c.fail(400, 50405377, "GET", "/secret/svc%2Fcfg?version="+rev+"&includeData=true", "")
		if m := object(t, c.ok(200, "GET", "/secret/svc%2Fcfg/version/"+rev, "")); field(m, "state") != "active" {
			t.Errorf("version %s without data: %v", rev, m)
		}
	}
	// A secret with no version has no version to show.
	scw(t, c, 200, "POST", "/secrets", `{"project_id":"`+c.okmsID+`","name":"empty"}`)
	m = object(t, c.ok(200, "GET", "/secret/empty?includeData=true", ""))
	if _, ok := m["version"]; ok || str(field(m, "metadata.currentVersion")) != "0" {
		t.Errorf("secret without versions: %v", m)
	}
	// OKMS create refuses a path a Scaleway secret holds, versions or not.
	c.fail(409, 50438145, "POST", "/secret", `{"path":"empty","version":{"data":{}}}`)
	c.fail(409, 50438145, "POST", "/secret", `{"path":"svc/cfg","version":{"data":{}}}`)
	// A protected secret cannot be deleted through OKMS either.
	scw(t, c, 200, "POST", "/secrets/"+id+"/protect", "{}")
	c.fail(400, 50405377, "DELETE", "/secret/svc%2Fcfg", "")
}

// TestVaultCompatibleAPI: OKMS serves the Vault KV v2 API under
// /api/{okmsId}/v1 on the okmsId's project; it sees the same secrets as the
// v2 API, in both directions, and nothing of other projects.
func TestVaultCompatibleAPI(t *testing.T) {
	n, c, _ := start(t)
	vault := func(cl *client, method, p, body string) response {
		t.Helper()
		return cl.do(method, "//api/"+cl.okmsID+"/v1/secret/"+p, body, "Authorization", "-", "X-Vault-Token", cl.token)
	}
	c.ok(200, "POST", "/secret", `{"path":"a/b","version":{"data":{"k":"v"}},"metadata":{"customMetadata":{"team":"ops"}}}`)
	r := vault(c, "GET", "data/a/b", "")
	if r.Status != 200 {
		t.Fatalf("Vault read of an OKMS secret: %d %s", r.Status, r.Body)
	}
	m := object(t, r.Body)
	if field(m, "data.data.k") != "v" || str(field(m, "data.metadata.version")) != "1" {
		t.Errorf("Vault read: %s", r.Body)
	}
	if r := vault(c, "GET", "metadata/a/b", ""); r.Status != 200 || field(object(t, r.Body), "data.custom_metadata.team") != "ops" {
		t.Errorf("Vault metadata: %d %s", r.Status, r.Body)
	}

	// A Vault write is an OKMS version; a soft delete is deactivated.
	if r := vault(c, "POST", "data/x/y", `{"data":{"n":"1"}}`); r.Status != 200 {
		t.Fatalf("Vault write: %d %s", r.Status, r.Body)
	}
	if m := object(t, c.ok(200, "GET", "/secret/x%2Fy?includeData=true", "")); field(m, "version.data.n") != "1" {
		t.Errorf("OKMS read of a Vault write: %v", m)
	}
	if r := vault(c, "DELETE", "data/x/y", ""); r.Status != 204 {
		t.Fatalf("Vault delete: %d %s", r.Status, r.Body)
	}
	if m := object(t, c.ok(200, "GET", "/secret/x%2Fy/version/1", "")); field(m, "state") != "deactivated" {
		t.Errorf("after a Vault soft delete: %v", m)
	}

	// Another organization's project, or a missing one, shows nothing.
	other := seedPrincipal(t, n, true, true)
	for _, cl := range []*client{c.as(other.projectID), c.as("8a7f1f0e-3f5e-4a47-9d55-0e4b1c2d3e4f"), newClient(t, n, other.token, n.Creds.ProjectID)} {
		if r := vault(cl, "GET", "data/a/b", ""); r.Status < 400 || strings.Contains(string(r.Body), `"k"`) {
			t.Errorf("Vault read through okmsId %s: %d %s", cl.okmsID, r.Status, r.Body)
		}
	}
	// A malformed path under the Vault prefix is refused in Vault's format.
	if r := vault(c, "GET", "data/a/../a/b", ""); r.Status != 400 || !strings.Contains(string(r.Body), `"errors"`) || strings.Contains(string(r.Body), "error_code") {
		t.Errorf("Vault unclean path: %d %s", r.Status, r.Body)
	}
}

// TestSecretScheduledForDeletion: a secret Scaleway scheduled for deletion
// keeps its path: OKMS still shows its metadata, refuses its data and
// writes with a message that says why, leaves it out of lists, and deletes
// it for good.
func TestSecretScheduledForDeletion(t *testing.T) {
	_, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"old","version":{"data":{"k":"v"}}}`)
	c.ok(200, "POST", "/secret", `{"path":"live","version":{"data":{"k":"v"}}}`)
	id := scwSecretID(t, c, "/", "old")
	scw(t, c, 204, "DELETE", "/secrets/"+id, "")

	if m := object(t, c.ok(200, "GET", "/secret/old", "")); field(m, "version.state") != "active" {
		t.Errorf("metadata: %v", m)
	}
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/secret/old?includeData=true", ""},
		{"GET", "/secret/old/version/1?includeData=true", ""},
		{"PUT", "/secret/old", `{"version":{"data":{}}}`},
		{"PUT", "/secret/old", `{"metadata":{"maxVersions":3}}`},
		{"POST", "/secret/old/version", `{"data":{}}`},
	} {
		msgs := c.fail(400, codeInvalid, req.method, req.path, req.body)
		if !strings.Contains(strings.Join(msgs, " "), "scheduled for deletion") {
			t.Errorf("%s %s: %q", req.method, req.path, msgs)
		}
	}
	if a := array(t, c.ok(200, "GET", "/secret", "")); len(a) != 1 || field(a[0], "path") != "live" {
		t.Errorf("list: %v", a)
	}
	c.fail(409, codeConflict, "POST", "/secret", `{"path":"old","version":{"data":{}}}`)
	c.ok(204, "DELETE", "/secret/old", "")
	scw(t, c, 404, "GET", "/secrets/"+id, "")
	c.ok(200, "POST", "/secret", `{"path":"old","version":{"data":{}}}`)
}

// TestNonJSONReadOnceThroughOKMS: an OKMS read with data of an opaque value
// that expires once accessed is refused before the policy fires, so that
// the value is still there, for the Scaleway API to hand out, once.
func TestNonJSONReadOnceThroughOKMS(t *testing.T) {
	_, c, _ := start(t)
	for action, gone := range map[string]string{"disable": "disabled", "delete": "deleted"} {
		data := []byte("opaque, read once")
		id := scwReadOnce(t, c, "/once", action, "opaque", action, data)
		key := "/secret/once%2F" + action
		for _, p := range []string{key + "?includeData=true", key + "?version=1&includeData=true", key + "/version/1?includeData=true"} {
			msgs := c.fail(400, 50405377, "GET", p, "")
			if len(msgs) != 1 || msgs[0] != "version 1 holds data that is not a JSON object, which the OKMS API cannot return: read it through the Scaleway API" {
				t.Errorf("%s: %q", p, msgs)
			}
		}
		if st := scw(t, c, 200, "GET", "/secrets/"+id+"/versions/1", "")["status"]; st != "enabled" {
			t.Fatalf("%s: version %v after refused OKMS reads, want enabled", key, st)
		}
		// Without data, the version reads as active, and nothing fires.
		if m := object(t, c.ok(200, "GET", key+"/version/1", "")); field(m, "state") != "active" {
			t.Errorf("%s without data: %v", key, m)
		}
		if got := scwData(t, c, id, "1"); string(got) != string(data) {
			t.Errorf("%s: Scaleway reads %q, want %q", key, got, data)
		}
		if st := scw(t, c, 200, "GET", "/secrets/"+id+"/versions/1", "")["status"]; st != gone {
			t.Errorf("%s: version %v after the Scaleway read, want %s", key, st, gone)
		}
	}
}

// TestReadOnceThroughOKMS: a JSON value that expires once accessed is
// handed out by one OKMS read with data; the next reads answer the version
// without data. Reads without data do not consume it.
func TestReadOnceThroughOKMS(t *testing.T) {
	_, c, _ := start(t)
	for action, state := range map[string]string{"disable": "deactivated", "delete": "deleted"} {
		scwReadOnce(t, c, "/once-json", action, "key_value", action, []byte(`{"k":"v"}`))
		key := "/secret/once-json%2F" + action
		// version returns the version an answer holds: a secret's, or
		// the answer itself.
		version := func(p string) map[string]any {
			m := object(t, c.ok(200, "GET", p, ""))
			if strings.Contains(p, "/version/") {
				return m
			}
			v, _ := m["version"].(map[string]any)
			return v
		}
		for _, p := range []string{key, key + "/version/1"} {
			if v := version(p); field(v, "state") != "active" || field(v, "data") != nil {
				t.Fatalf("%s without data: %v", p, v)
			}
		}
		if v := version(key + "?includeData=true"); field(v, "data.k") != "v" || field(v, "state") != state {
			t.Errorf("%s: first read %v", key, v)
		}
		for _, p := range []string{key + "?includeData=true", key + "/version/1?includeData=true"} {
			if v := version(p); field(v, "state") != state || field(v, "data") != nil {
				t.Errorf("%s: read after the first %v", p, v)
			}
		}
	}
}
