package imco_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

func TestBadInput(t *testing.T) {
	n := nodetest.Start(t, nodetest.WithLimits(engine.Limits{MaxPayloadSize: 64}))
	c := newClient(t, n, n.Creds.SecretKey)
	project := n.Creds.ProjectID
	kv := localVault(t, c, project, "app")
	other := localVault(t, c, project, "other")
	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+kv.ID+"/secrets", `{"name":"token","content":"v1"}`, &s)
	const unknown = "0123456789abcdef01234567"

	cases := []struct {
		name, method, path, body string
		status                   int
		field                    string // the field of an {"errors"} body; "" for {"error"}
	}{
		{"unknown secret", "GET", "/v3/secret/secrets/" + unknown, "", 404, ""},
		{"unknown secret update", "PUT", "/v3/secret/secrets/" + unknown, `{"name":"x"}`, 404, ""},
		{"unknown secret delete", "DELETE", "/v3/secret/secrets/" + unknown, "", 404, ""},
		{"unknown secret retry", "PUT", "/v3/secret/secrets/" + unknown + "/retry", "", 404, ""},
		{"unknown secret versions", "GET", "/v3/secret/secrets/" + unknown + "/versions", "", 404, ""},
		{"unknown secret new version", "POST", "/v3/secret/secrets/" + unknown + "/versions", `{"content":"x"}`, 404, ""},
		{"unknown key vault", "GET", "/v3/secret/key_vaults/" + unknown, "", 404, ""},
		{"unknown key vault secrets", "POST", "/v3/secret/key_vaults/" + unknown + "/secrets", `{"name":"a","content":"x"}`, 404, ""},
		{"unknown version", "GET", "/secret/secret_versions/" + s.ID + ".9", "", 404, ""},
		{"malformed version id", "GET", "/secret/secret_versions/" + s.ID, "", 404, ""},
		{"no name", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"content":"x"}`, 422, "name"},
		{"no content", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"name":"b"}`, 422, "content"},
		{"empty content", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"name":"b","content":""}`, 422, "content"},
		{"oversized content", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"name":"b","content":"` + strings.Repeat("x", 65) + `"}`, 422, "content"},
		{"content of the wrong type", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"name":"b","content":42}`, 422, "content"},
		{"bad label", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"name":"b","content":"x","label_ids":["nope"]}`, 422, "label_ids"},
		{"labels of the wrong type", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"name":"b","content":"x","label_ids":"nope"}`, 422, "label_ids"},
		{"taken name", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"name":"token","content":"x"}`, 409, ""},
		{"malformed JSON", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `{"name":`, 422, "body"},
		{"not an object", "POST", "/v3/secret/key_vaults/" + kv.ID + "/secrets", `["name"]`, 422, "body"},
		{"empty version", "POST", "/v3/secret/secrets/" + s.ID + "/versions", `{"content":""}`, 422, "content"},
		{"oversized version", "POST", "/v3/secret/secrets/" + s.ID + "/versions", `{"content":"` + strings.Repeat("x", 65) + `"}`, 422, "content"},
		{"content through update", "PUT", "/v3/secret/secrets/" + s.ID, `{"content":"x"}`, 422, "content"},
		{"bad label on update", "PUT", "/v3/secret/secrets/" + s.ID, `{"label_ids":["nope"]}`, 422, "label_ids"},
		{"retry of an available secret", "PUT", "/v3/secret/secrets/" + s.ID + "/retry", "", 422, ""},
		{"discard of a secret IMCO created", "DELETE", "/v3/secret/secrets/" + s.ID + "/discard", "", 422, ""},
		{"import without target", "PUT", "/v3/secret/key_vaults/" + kv.ID + "/import", "", 422, ""},
		{"delete of a vault with secrets", "DELETE", "/v3/secret/key_vaults/" + kv.ID, "", 422, ""},
		{"taken vault name", "POST", "/v3/secret/key_vaults", `{"name":"app","project_id":"` + project + `"}`, 409, ""},
		{"vault without project", "POST", "/v3/secret/key_vaults", `{"name":"x"}`, 422, "project_id"},
		{"bad target", "POST", "/v3/secret/key_vaults", `{"name":"x","project_id":"` + project + `","target_kind":"ftp"}`, 422, "target_kind"},
		{"target without credential", "POST", "/v3/secret/key_vaults", `{"name":"x","project_id":"` + project + `","target_kind":"vault","target_address":"http://127.0.0.1:1"}`, 422, "target_credential"},
		{"credential of a vault without target", "PUT", "/v3/secret/key_vaults/" + kv.ID, `{"target_credential":"x"}`, 422, "target_credential"},
		{"wrong method", "PATCH", "/v3/secret/secrets/" + s.ID, "", 405, ""},
		{"unknown route", "GET", "/v3/secret/nothing", "", 404, ""},
		{"unclean path", "GET", "/v3/secret/secrets/../key_vaults", "", 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := *c
			c.t = t
			e := c.fail(tc.status, tc.method, tc.path, tc.body)
			if tc.field != "" {
				if len(e.Errors[tc.field]) == 0 {
					t.Errorf("errors = %v, want one on %q", e.Errors, tc.field)
				}
			} else if e.Error == "" {
				t.Errorf("want an {\"error\"} body, got %+v", e)
			}
		})
	}

	// Nothing changed: one secret with one version, in its vault, and the
	// other vault is empty.
	var list []secret
	c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+kv.ID+"/secrets", "", &list)
	if len(list) != 1 || list[0].Name != "token" || len(list[0].LabelIDs) != 0 {
		t.Fatalf("secrets = %+v", list)
	}
	var vs []version
	c.ok(http.StatusOK, "GET", "/v3/secret/secrets/"+s.ID+"/versions", "", &vs)
	if len(vs) != 1 {
		t.Fatalf("versions = %+v", vs)
	}
	c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+other.ID+"/secrets", "", &list)
	if len(list) != 0 {
		t.Fatalf("other vault = %+v", list)
	}

	// No credential, a wrong one.
	anon := newClient(t, n, "")
	anon.fail(http.StatusUnauthorized, "GET", "/v3/secret/secrets/"+s.ID, "")
	anon.fail(http.StatusUnauthorized, "GET", "/secret/secret_versions/"+s.ID+".1", "")
	bad := newClient(t, n, "00000000-0000-0000-0000-000000000000")
	bad.fail(http.StatusUnauthorized, "GET", "/v3/secret/secrets/"+s.ID, "")
}

// TestClientCertificates drives the API with client certificates: one of
// the project works, one of another project sees nothing of it.
func TestClientCertificates(t *testing.T) {
	n := nodetest.Start(t)
	project := n.Creds.ProjectID
	mine := tlsClient(t, n, project)

	var kv keyVault
	mine.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", `{"name":"certs"}`, &kv) // the certificate's project
	if kv.ProjectID != project {
		t.Fatalf("key vault of project %s, want %s", kv.ProjectID, project)
	}
	var s secret
	mine.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+kv.ID+"/secrets", `{"name":"tls","content":"pem"}`, &s)
	r := mine.ok(http.StatusOK, "GET", "/secret/secret_versions/"+s.ID+".1", "", nil)
	if string(r.Body) != "pem" {
		t.Fatalf("agent route = %q", r.Body)
	}

	p2, err := n.Engine.CreateProject(adminContext(t, n), "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	theirs := tlsClient(t, n, p2.ID)
	theirs.fail(http.StatusNotFound, "GET", "/v3/secret/secrets/"+s.ID, "")
	theirs.fail(http.StatusNotFound, "GET", "/v3/secret/key_vaults/"+kv.ID, "")
	theirs.fail(http.StatusNotFound, "POST", "/v3/secret/key_vaults/"+kv.ID+"/secrets", `{"name":"x","content":"y"}`)
	theirs.fail(http.StatusNotFound, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"y"}`)
	theirs.fail(http.StatusNotFound, "DELETE", "/v3/secret/secrets/"+s.ID, "")
	theirs.fail(http.StatusNotFound, "GET", "/secret/secret_versions/"+s.ID+".1", "")
	var kvs []keyVault
	theirs.ok(http.StatusOK, "GET", "/v3/secret/key_vaults", "", &kvs)
	if len(kvs) != 0 {
		t.Fatalf("another project's certificate lists %+v", kvs)
	}
	var vs []version
	mine.ok(http.StatusOK, "GET", "/v3/secret/secrets/"+s.ID+"/versions", "", &vs)
	if len(vs) != 1 {
		t.Fatalf("versions = %+v", vs)
	}
}
