package vaultkv_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/node"
)

// These tests speak HTTP without a client library, to send what clients
// never would and to look at the exact bytes of answers.

// TestEnvelope checks the exact bytes of a read: Vault's envelope, with the
// request id the server gave the request.
func TestEnvelope(t *testing.T) {
	e := newEnv(t)
	e.ok(200, "PUT", "/v1/secret/data/a/b", `{"data":{"k":"v"}}`)
	r := e.do("GET", "/v1/secret/data/a/b", "")
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id")
	}
	want := `{"request_id":"` + id + `","lease_id":"","renewable":false,"lease_duration":0,` +
		`"data":{"data":{"k":"v"},"metadata":{"created_time":"2026-07-03T15:27:54.719648Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}},` +
		`"wrap_info":null,"warnings":null,"auth":null,"mount_type":"kv"}` + "\n"
	if r.Status != 200 || string(r.Body) != want || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("read answer %d %s\nwant %s", r.Status, r.Body, want)
	}

	// Metadata: versions is an object, durations are Go durations.
	r = e.do("GET", "/v1/secret/metadata/a/b", "")
	want = `{"request_id":"` + r.Header.Get("X-Request-Id") + `","lease_id":"","renewable":false,"lease_duration":0,` +
		`"data":{"cas_required":false,"created_time":"2026-07-03T15:27:54.719648Z","current_version":1,"custom_metadata":null,` +
		`"delete_version_after":"0s","max_versions":0,"oldest_version":0,"updated_time":"2026-07-03T15:27:54.719648Z",` +
		`"versions":{"1":{"created_time":"2026-07-03T15:27:54.719648Z","deletion_time":"","destroyed":false}}},` +
		`"wrap_info":null,"warnings":null,"auth":null,"mount_type":"kv"}` + "\n"
	if string(r.Body) != want {
		t.Errorf("metadata answer %s\nwant %s", r.Body, want)
	}

	// Writes that answer nothing answer 204 with an empty body.
	for _, tc := range []struct{ method, path, body string }{
		{"PUT", "/v1/secret/metadata/a/b", `{"max_versions":2}`},
		{"POST", "/v1/secret/delete/a/b", `{"versions":[1]}`},
		{"POST", "/v1/secret/undelete/a/b", `{"versions":"1"}`},
		{"DELETE", "/v1/secret/data/a/b", ""},
		{"POST", "/v1/secret/config", `{}`},
	} {
		if r := e.do(tc.method, tc.path, tc.body); r.Status != 204 || len(r.Body) != 0 {
			t.Errorf("%s %s: %d %q, want 204 and no body", tc.method, tc.path, r.Status, r.Body)
		}
	}

	// A deleted version reads as a 404 that carries its metadata.
	r = e.do("GET", "/v1/secret/data/a/b", "")
	var body struct {
		Data struct {
			Data     json.RawMessage
			Metadata map[string]any
		}
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 404 || string(body.Data.Data) != "null" || body.Data.Metadata["deletion_time"] == "" {
		t.Errorf("read of a deleted version: %d %s", r.Status, r.Body)
	}
	// HEAD answers the status of a read, without a body.
	if r := e.do("HEAD", "/v1/secret/data/a/b", ""); r.Status != 404 || len(r.Body) != 0 {
		t.Errorf("HEAD of a deleted version: %d %q", r.Status, r.Body)
	}
	e.ok(204, "POST", "/v1/secret/undelete/a/b", `{"versions":[1]}`)
	if r := e.do("HEAD", "/v1/secret/data/a/b", ""); r.Status != 200 {
		t.Errorf("HEAD of a live version: %d", r.Status)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *node.Config) { c.MaxBodySize = 4 << 10 })
	e.ok(200, "PUT", "/v1/secret/data/app/key", `{"data":{"a":"1"}}`)
	e.ok(200, "PUT", "/v1/secret/data/app/key", `{"data":{"a":"2"}}`)
	merge := []string{"Content-Type", "application/merge-patch+json"}
	noHandler := func(p string) string { return `no handler for route "` + p + `". route entry not found.` }
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		header       []string
		status       int
		// msgs are the exact errors; contains, when set, a part of the one
		// error instead.
		msgs     []string
		contains string
	}{
		// Bodies.
		{name: "malformed JSON", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":`, status: 400, contains: "failed to parse JSON input"},
		{name: "body not an object", method: "PUT", path: "/v1/secret/data/app/key", body: `["data"]`, status: 400, contains: "failed to parse JSON input: the body must be a JSON object"},
		{name: "trailing garbage", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":{}} x`, status: 400, contains: "failed to parse JSON input"},
		{name: "no data", method: "PUT", path: "/v1/secret/data/app/key", body: `{"options":{}}`, status: 400, msgs: []string{"no data provided"}},
		{name: "empty body", method: "PUT", path: "/v1/secret/data/app/key", body: ``, status: 400, msgs: []string{"no data provided"}},
		{name: "null data", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":null}`, status: 400, msgs: []string{"no data provided"}},
		{name: "data a string", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":"x"}`, status: 400, msgs: []string{"data must be a JSON object, not a string"}},
		{name: "data an array", method: "POST", path: "/v1/secret/data/app/key", body: `{"data":[1]}`, status: 400, msgs: []string{"data must be a JSON object, not an array"}},
		{name: "data not UTF-8", method: "POST", path: "/v1/secret/data/app/key", body: "{\"data\":{\"a\":\"\xff\"}}", status: 400, msgs: []string{"the request body must be valid UTF-8"}},
		{name: "cas garbage", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":{},"options":{"cas":"abc"}}`, status: 400, msgs: []string{"error parsing check-and-set parameter"}},
		{name: "cas object", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":{},"options":{"cas":{}}}`, status: 400, msgs: []string{"error parsing check-and-set parameter"}},
		{name: "cas fraction", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":{},"options":{"cas":1.5}}`, status: 400, msgs: []string{"error parsing check-and-set parameter"}},
		{name: "cas negative", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":{},"options":{"cas":-1}}`, status: 400, msgs: []string{"check-and-set parameter did not match the current version"}},
		{name: "cas stale string", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":{},"options":{"cas":"1"}}`, status: 400, msgs: []string{"check-and-set parameter did not match the current version"}},
		{name: "options not an object", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":{},"options":3}`, status: 400, msgs: []string{"options must be a JSON object"}},
		{name: "oversized body", method: "PUT", path: "/v1/secret/data/app/key", body: `{"data":{"a":"` + strings.Repeat("x", 5<<10) + `"}}`, status: 413, contains: "request body too large"},
		{name: "no versions", method: "POST", path: "/v1/secret/delete/app/key", body: `{}`, status: 400, msgs: []string{"No version number provided"}},
		{name: "empty versions", method: "POST", path: "/v1/secret/undelete/app/key", body: `{"versions":[]}`, status: 400, msgs: []string{"No version number provided"}},
		{name: "no versions to destroy", method: "PUT", path: "/v1/secret/destroy/app/key", body: `{"versions":""}`, status: 400, msgs: []string{"no version number provided"}},
		{name: "versions garbage", method: "PUT", path: "/v1/secret/destroy/app/key", body: `{"versions":["x"]}`, status: 400, contains: `field "versions"`},
		{name: "versions objects", method: "PUT", path: "/v1/secret/destroy/app/key", body: `{"versions":[{}]}`, status: 400, contains: `field "versions"`},
		{name: "max_versions garbage", method: "PUT", path: "/v1/secret/metadata/app/key", body: `{"max_versions":"many"}`, status: 400, contains: `field "max_versions"`},
		{name: "max_versions negative", method: "PUT", path: "/v1/secret/metadata/app/key", body: `{"max_versions":-1}`, status: 400, contains: "max_versions must be between 0 and 10000"},
		{name: "duration garbage", method: "PUT", path: "/v1/secret/metadata/app/key", body: `{"delete_version_after":"soon"}`, status: 400, contains: `field "delete_version_after"`},
		{name: "negative key duration", method: "PUT", path: "/v1/secret/metadata/app/key", body: `{"delete_version_after":"-1h"}`, status: 400, msgs: []string{"delete_version_after must not be negative"}},
		{name: "cas_required garbage", method: "POST", path: "/v1/secret/config", body: `{"cas_required":"perhaps"}`, status: 400, contains: `field "cas_required"`},
		{name: "custom_metadata not an object", method: "PUT", path: "/v1/secret/metadata/app/key", body: `{"custom_metadata":"x"}`, status: 400, contains: "custom_metadata validation failed"},
		{name: "custom_metadata empty value", method: "PUT", path: "/v1/secret/metadata/app/key", body: `{"custom_metadata":{"k":""}}`, status: 400, msgs: []string{`custom_metadata validation failed: length of value for key "k" is 0 but must be 0 < len(value) <= 512`}},
		{name: "custom_metadata unprintable", method: "PUT", path: "/v1/secret/metadata/app/key", body: `{"custom_metadata":{"k":"a\nb"}}`, status: 400, msgs: []string{`custom_metadata validation failed: value for key "k" contains unprintable characters`}},

		// Versions and keys that do not exist.
		{name: "unknown version", method: "GET", path: "/v1/secret/data/app/key?version=7", status: 404},
		{name: "huge version", method: "GET", path: "/v1/secret/data/app/key?version=99999999999", status: 404},
		{name: "version garbage", method: "GET", path: "/v1/secret/data/app/key?version=two", status: 400, contains: `field "version"`},
		{name: "unknown key", method: "GET", path: "/v1/secret/data/app/nothing", status: 404},
		{name: "unknown metadata", method: "GET", path: "/v1/secret/metadata/app/nothing", status: 404},
		{name: "unknown subkeys", method: "GET", path: "/v1/secret/subkeys/app/nothing", status: 404},
		{name: "negative depth", method: "GET", path: "/v1/secret/subkeys/app/key?depth=-1", status: 400, msgs: []string{"depth must be a non-negative integer"}},
		{name: "list bool garbage", method: "GET", path: "/v1/secret/metadata/?list=maybe", status: 400, contains: `"list"`},
		{name: "empty listing", method: "LIST", path: "/v1/secret/metadata/none/", status: 404},

		// Paths: never resolved, never redirected.
		{name: "dot dot", method: "GET", path: "/v1/secret/data/app/../key", status: 400, msgs: []string{`invalid request path: empty, "." and ".." segments are not allowed`}},
		{name: "dot dot deleting", method: "DELETE", path: "/v1/secret/metadata/app/key/..", status: 400, msgs: []string{`invalid request path: empty, "." and ".." segments are not allowed`}},
		{name: "encoded dot dot", method: "GET", path: "/v1/secret/data/app/%2e%2e/key", status: 400, msgs: []string{`invalid request path: empty, "." and ".." segments are not allowed`}},
		{name: "encoded slash dot dot", method: "PUT", path: "/v1/secret/data/app%2F..%2Fkey", body: `{"data":{}}`, status: 400, contains: "segments are not allowed"},
		{name: "dot", method: "GET", path: "/v1/secret/data/./app/key", status: 400, contains: "segments are not allowed"},
		{name: "empty segment", method: "GET", path: "/v1/secret/data/app//key", status: 400, contains: "segments are not allowed"},
		{name: "encoded empty segment", method: "PUT", path: "/v1/secret/data/app%2F%2Fkey", body: `{"data":{}}`, status: 400, contains: "segments are not allowed"},
		{name: "leading encoded slash", method: "PUT", path: "/v1/secret/data/%2Fapp", body: `{"data":{}}`, status: 400, contains: "segments are not allowed"},
		{name: "bad characters", method: "PUT", path: "/v1/secret/data/app/k%20ey", body: `{"data":{}}`, status: 400, contains: "name must be 1 to 255 characters"},
		{name: "name too long", method: "PUT", path: "/v1/secret/data/" + strings.Repeat("n", 256), body: `{"data":{}}`, status: 400, contains: "name must be 1 to 255 characters"},

		// Methods and content types.
		{name: "patch without merge type", method: "PATCH", path: "/v1/secret/data/app/key", body: `{"data":{}}`, header: []string{"Content-Type", "text/plain"}, status: 415, msgs: []string{"PATCH requires Content-Type of application/merge-patch+json, provided text/plain"}},
		{name: "patch without content type", method: "PATCH", path: "/v1/secret/metadata/app/key", body: `{}`, status: 415, msgs: []string{"PATCH requires Content-Type of application/merge-patch+json, provided "}},
		{name: "patch no data", method: "PATCH", path: "/v1/secret/data/app/key", body: `{}`, header: merge, status: 400, msgs: []string{"no data provided"}},
		{name: "list data", method: "LIST", path: "/v1/secret/data/app/key", status: 405, msgs: []string{"1 error occurred:\n\t* unsupported operation\n\n"}},
		{name: "get data list", method: "GET", path: "/v1/secret/data/app/key?list=true", status: 405, msgs: []string{"1 error occurred:\n\t* unsupported operation\n\n"}},
		{name: "delete config", method: "DELETE", path: "/v1/secret/config", status: 405, msgs: []string{"1 error occurred:\n\t* unsupported operation\n\n"}},
		{name: "get destroy", method: "GET", path: "/v1/secret/destroy/app/key", status: 405, msgs: []string{"1 error occurred:\n\t* unsupported operation\n\n"}},
		{name: "options", method: "OPTIONS", path: "/v1/secret/data/app/key", status: 405, msgs: []string{"1 error occurred:\n\t* unsupported operation\n\n"}},
		{name: "put subkeys", method: "PUT", path: "/v1/secret/subkeys/app/key", body: `{}`, status: 405, msgs: []string{"1 error occurred:\n\t* unsupported operation\n\n"}},
		{name: "write mounts", method: "POST", path: "/v1/sys/mounts/other", body: `{"type":"kv"}`, status: 405, msgs: []string{"1 error occurred:\n\t* unsupported operation\n\n"}},

		// Tokens and headers.
		{name: "no token", method: "GET", path: "/v1/secret/data/app/key", header: []string{"X-Vault-Token", "-"}, status: 403, msgs: []string{"permission denied"}},
		{name: "wrong token", method: "GET", path: "/v1/secret/data/app/key", header: []string{"X-Vault-Token", "00000000-0000-0000-0000-000000000000"}, status: 403, msgs: []string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}},
		{name: "wrong bearer", method: "GET", path: "/v1/secret/data/app/key", header: []string{"X-Vault-Token", "-", "Authorization", "Bearer nope"}, status: 403, msgs: []string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}},
		{name: "basic auth", method: "GET", path: "/v1/secret/data/app/key", header: []string{"X-Vault-Token", "-", "Authorization", "Basic eDp5"}, status: 403, msgs: []string{"permission denied"}},
		{name: "token for preflight", method: "GET", path: "/v1/sys/internal/ui/mounts/secret/app", header: []string{"X-Vault-Token", "-"}, status: 403, msgs: []string{"permission denied"}},
		{name: "namespace", method: "GET", path: "/v1/secret/data/app/key", header: []string{"X-Vault-Namespace", "team"}, status: 400, msgs: []string{"namespaces are not supported: coffer serves only the root namespace"}},
		{name: "wrapping", method: "GET", path: "/v1/secret/data/app/key", header: []string{"X-Vault-Wrap-TTL", "60"}, status: 400, msgs: []string{"response wrapping is not supported"}},

		// Routes.
		{name: "other mount", method: "GET", path: "/v1/kv/data/x", status: 404, msgs: []string{noHandler("kv/data/x")}},
		{name: "sys elsewhere", method: "GET", path: "/v1/sys/policies/acl", status: 404, msgs: []string{noHandler("sys/policies/acl")}},
		{name: "bare prefix", method: "GET", path: "/v1", status: 404, msgs: []string{noHandler("")}},
		{name: "unknown mount preflight", method: "GET", path: "/v1/sys/internal/ui/mounts/other/x", status: 403, msgs: []string{`preflight capability check returned 403, please ensure client's policies grant access to path "other/x/"`}},
		{name: "health code garbage", method: "GET", path: "/v1/sys/health?standbycode=x", status: 400, contains: "standbycode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			r := e.do(tc.method, tc.path, tc.body, tc.header...)
			if tc.contains != "" {
				e.wantErrorContaining(r, tc.status, tc.contains)
			} else {
				e.wantErrors(r, tc.status, tc.msgs...)
			}
			if loc := r.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s", loc)
			}
		})
	}
	e.t = t
	// The node also serves the engine under OKMS's prefix, and refuses
	// unclean paths there in Vault's format too.
	okms := "/api/" + e.n.Creds.ProjectID + "/v1/secret/data/app"
	e.ok(200, "GET", okms+"/key", "")
	e.wantErrors(e.do("DELETE", okms+"/key/..", ""), 400, `invalid request path: empty, "." and ".." segments are not allowed`)
	e.wantErrors(e.do("GET", okms+"/%2e%2e/app/key", ""), 400, `invalid request path: empty, "." and ".." segments are not allowed`)

	// Nothing changed.
	var data struct {
		Data           map[string]string
		CurrentVersion int `json:"current_version"`
	}
	dataOf(t, e.ok(200, "GET", "/v1/secret/data/app/key", ""), &data)
	if data.Data["a"] != "2" {
		t.Errorf("after the bad requests: %v", data.Data)
	}
	dataOf(t, e.ok(200, "GET", "/v1/secret/metadata/app/key", ""), &data)
	if data.CurrentVersion != 2 {
		t.Errorf("after the bad requests: current version %d", data.CurrentVersion)
	}
}

// TestWarnings checks the 404 envelopes Vault answers with a warning for
// paths of the mount that no endpoint serves.
func TestWarnings(t *testing.T) {
	e := newEnv(t)
	invalid := func(cmd string) string {
		return fmt.Sprintf("Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv %s' for this operation.", cmd)
	}
	root := "Non-listing operations on the root of a K/V v2 mount are not supported."
	for _, tc := range []struct{ method, path, warning string }{
		{"GET", "/v1/secret/foo", invalid("get")},
		{"PUT", "/v1/secret/foo/bar", invalid("put")},
		{"DELETE", "/v1/secret/foo", invalid("delete")},
		{"GET", "/v1/secret/data/folder/", invalid("get")},
		{"GET", "/v1/secret/data", root},
		{"GET", "/v1/secret/data/", root},
		{"GET", "/v1/secret/metadata", root},
		{"POST", "/v1/secret/destroy", root},
		{"GET", "/v1/secret/subkeys", root},
		{"GET", "/v1/secret/subkeys/", root},
	} {
		r := e.do(tc.method, tc.path, "")
		var body struct {
			Data     json.RawMessage
			Warnings []string
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != http.StatusNotFound ||
			string(body.Data) != "null" || len(body.Warnings) != 1 || body.Warnings[0] != tc.warning {
			t.Errorf("%s %s: %d %s, want 404 with warning %q", tc.method, tc.path, r.Status, r.Body, tc.warning)
		}
	}
}

// TestPatchNotFound checks the answers of a PATCH to what cannot be
// patched: an empty 404 for a missing key, the version's metadata for a
// deleted or destroyed one.
func TestPatchNotFound(t *testing.T) {
	e := newEnv(t)
	merge := []string{"Content-Type", "application/merge-patch+json"}
	for _, p := range []string{"/v1/secret/data/none", "/v1/secret/metadata/none"} {
		if r := e.do("PATCH", p, `{"data":{"a":"b"}}`, merge...); r.Status != 404 || len(r.Body) != 0 {
			t.Errorf("PATCH %s: %d %q, want an empty 404", p, r.Status, r.Body)
		}
	}
	e.ok(200, "PUT", "/v1/secret/data/k", `{"data":{"a":"b"}}`)
	e.ok(204, "DELETE", "/v1/secret/data/k", "")
	r := e.do("PATCH", "/v1/secret/data/k", `{"data":{"a":"c"}}`, merge...)
	var body struct{ Data map[string]any }
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 404 || body.Data["version"] != 1.0 || body.Data["deletion_time"] == "" {
		t.Errorf("PATCH of a deleted version: %d %s", r.Status, r.Body)
	}
	e.ok(204, "PUT", "/v1/secret/destroy/k", `{"versions":"1"}`)
	r = e.do("PATCH", "/v1/secret/data/k", `{"data":{"a":"c"}}`, merge...)
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 404 || body.Data["destroyed"] != true {
		t.Errorf("PATCH of a destroyed version: %d %s", r.Status, r.Body)
	}
	// A metadata-only key has no version to patch.
	e.ok(204, "PUT", "/v1/secret/metadata/meta-only", `{"max_versions":3}`)
	if r := e.do("PATCH", "/v1/secret/data/meta-only", `{"data":{"a":"c"}}`, merge...); r.Status != 404 || len(r.Body) != 0 {
		t.Errorf("PATCH of a key without versions: %d %q", r.Status, r.Body)
	}
	// A write is fine, though: cas 0 is its current version.
	e.ok(200, "PUT", "/v1/secret/data/meta-only", `{"data":{"a":"c"},"options":{"cas":0}}`)
}
