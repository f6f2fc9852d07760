package scaleway_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// These tests speak HTTP without the SDK, to send what the SDK never would
// and to look at the exact bytes of answers.

// rawClient sends requests to a node as its admin.
type rawClient struct {
	t      *testing.T
	node   *nodetest.Node
	token  string
	client *http.Client
}

func newRawClient(t *testing.T, n *nodetest.Node) *rawClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &rawClient{t: t, node: n, token: n.Creds.SecretKey, client: &http.Client{
		Transport: tr,
		// A redirect is an answer of its own here.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// regionPath returns the API path of region r.
func regionPath(r string) string { return apiPrefix + r }

// apiPath returns the fr-par API path of p.
func apiPath(p string) string { return regionPath("fr-par") + p }

// do sends a request to path (from the node's root, raw: it is not
// escaped). A non-empty body is sent as application/json unless header
// says otherwise; header holds name, value pairs, a value "-" drops a header.
func (c *rawClient) do(method, path, body string, header ...string) rawResponse {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.node.URL+path, rd)
	if err != nil {
		c.t.Fatalf("new request %s %s: %v", method, path, err)
	}
	req.Header.Set("X-Auth-Token", c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "-" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	res, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return rawResponse{Status: res.StatusCode, Header: res.Header, Body: b}
}

// ok sends a request that must succeed with status and returns its body.
func (c *rawClient) ok(status int, method, path, body string, header ...string) []byte {
	c.t.Helper()
	r := c.do(method, path, body, header...)
	if r.Status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	checkContentType(c.t, r)
	return r.Body
}

// jsonObject decodes a JSON object answer.
func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, b)
	}
	return m
}

func checkContentType(t *testing.T, r rawResponse) {
	t.Helper()
	if ct := r.Header.Values("Content-Type"); !slices.Equal(ct, []string{"application/json"}) {
		t.Errorf("Content-Type %q, want exactly application/json", ct)
	}
}

// wireError is the error answer of the API.
type wireError struct {
	Type       string `json:"type"`
	Message    string `json:"message"`
	Resource   string `json:"resource"`
	ResourceID string `json:"resource_id"`
	Details    []struct {
		ArgumentName string `json:"argument_name"`
		Reason       string `json:"reason"`
		HelpMessage  string `json:"help_message"`
	} `json:"details"`
}

// checkWireError checks an error answer: its status, its JSON body of type typ,
// and for invalid_arguments the first argument named, for not_found the
// resource named.
func checkWireError(t *testing.T, r rawResponse, status int, typ, name string) wireError {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	checkContentType(t, r)
	var e wireError
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %q", err, r.Body)
	}
	if e.Type != typ || e.Message == "" {
		t.Errorf("error type %q message %q, want type %q and a message: %s", e.Type, e.Message, typ, r.Body)
	}
	switch typ {
	case "invalid_arguments":
		if len(e.Details) == 0 {
			t.Fatalf("invalid_arguments without details: %s", r.Body)
		}
		for _, d := range e.Details {
			if d.ArgumentName == "" || !slices.Contains([]string{"required", "format", "constraint", "unknown"}, d.Reason) {
				t.Errorf("detail %+v: want an argument name and a known reason", d)
			}
		}
		if e.Details[0].ArgumentName != name {
			t.Errorf("argument_name %q, want %q: %s", e.Details[0].ArgumentName, name, r.Body)
		}
	case "not_found":
		if e.Resource != name {
			t.Errorf("resource %q, want %q: %s", e.Resource, name, r.Body)
		}
	}
	return e
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

type badCase struct {
	name   string
	method string
	path   string // under the fr-par prefix; {s}, {kv}, {missing}, {project} are replaced
	body   string
	header []string
	status int    // 400 when 0
	arg    string // argument_name, or the resource of a 404
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t)
	c := newRawClient(t, n)
	project := n.Creds.ProjectID

	// Fixtures: an opaque secret with two versions and a key_value one.
	fixture := jsonObject(t, c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"fixture","path":"/app","tags":["t"]}`, project)))
	sid := fixture["id"].(string)
	c.ok(200, "POST", apiPath("/secrets/"+sid+"/versions"), fmt.Sprintf(`{"data":%q}`, b64("v1")))
	c.ok(200, "POST", apiPath("/secrets/"+sid+"/versions"), fmt.Sprintf(`{"data":%q}`, b64("v2")))
	kv := jsonObject(t, c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"kv","type":"key_value"}`, project)))
	kid := kv["id"].(string)
	c.ok(200, "POST", apiPath("/secrets/"+kid+"/versions"), fmt.Sprintf(`{"data":%q}`, b64(`{"a":"b"}`)))
	missing := uuid.NewString()

	// state is everything a request could have changed.
	// wireState is everything a request could have changed, as the API
	// shows it; state is the same read from the engine, which is cheap
	// enough to check after every case.
	wireState := func() string {
		var b strings.Builder
		for _, p := range []string{
			"/secrets?scheduled_for_deletion=false", "/secrets?scheduled_for_deletion=true",
			"/secrets/" + sid + "/versions", "/secrets/" + kid + "/versions",
			"/secrets/" + sid + "/versions/latest/access", "/secrets/" + kid + "/versions/latest/access",
			"/tags?project_id=" + project, "/secret-types?project_id=" + project,
		} {
			b.Write(c.ok(200, "GET", apiPath(p), ""))
			b.WriteByte('\n')
		}
		return b.String()
	}
	caller, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := coffer.NewContextWithCaller(context.Background(), caller)
	state := func(t *testing.T) string {
		t.Helper()
		// The secrets not scheduled for deletion, and each fixture with its
		// versions: a new secret can only join the first, and a deleted
		// one can only be a fixture. Access times noted in memory are
		// written first, so that the node's periodic flush cannot change
		// the state between two snapshots, and a refused access that noted
		// one would.
		if err := n.Engine.FlushAccessTimes(ctx); err != nil {
			t.Fatalf("flush access times: %v", err)
		}
		ss, _, err := n.Engine.ListSecrets(ctx, coffer.SecretFilter{})
		if err != nil {
			t.Fatalf("list secrets: %v", err)
		}
		all := []any{ss}
		for _, id := range []string{sid, kid} {
			s, err := n.Engine.GetSecret(ctx, id)
			if err != nil {
				t.Fatalf("get secret: %v", err)
			}
			vs, _, err := n.Engine.ListVersions(ctx, id, coffer.VersionFilter{})
			if err != nil {
				t.Fatalf("list versions: %v", err)
			}
			all = append(all, s, vs)
		}
		b, err := json.MarshalIndent(all, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The wire state reads values, which notes access times: take it first.
	wireBefore := wireState()
	before := state(t)

	long := strings.Repeat("a", 256)
	createBody := func(fields string) string {
		return fmt.Sprintf(`{"project_id":%q,"name":"new",%s}`, project, fields)
	}
	createName := func(name string) string {
		b, _ := json.Marshal(map[string]string{"project_id": project, "name": name})
		return string(b)
	}
	createPath := func(path string) string {
		b, _ := json.Marshal(map[string]string{"project_id": project, "name": "new", "path": path})
		return string(b)
	}
	overBody := createBody(fmt.Sprintf(`"description":%q`, strings.Repeat("a", 1<<20)))
	overValue := fmt.Sprintf(`{"data":%q}`, base64.StdEncoding.EncodeToString(make([]byte, coffer.MaxPayloadSize+1)))

	cases := []badCase{
		// Malformed bodies.
		{name: "malformed JSON", method: "POST", path: "/secrets", body: `{"name":`, arg: "body"},
		{name: "trailing data", method: "POST", path: "/secrets", body: createName("x") + ` {}`, arg: "body"},
		{name: "array body", method: "POST", path: "/secrets", body: `[]`, arg: "body"},
		{name: "string body", method: "POST", path: "/secrets", body: `"secret"`, arg: "body"},
		{name: "form body", method: "POST", path: "/secrets", body: `name=x&project_id=y`, arg: "body"},
		{name: "text/plain", method: "POST", path: "/secrets", body: createName("x"), header: []string{"Content-Type", "text/plain"}, arg: "Content-Type"},
		{name: "body over 1 MiB", method: "POST", path: "/secrets", body: overBody, arg: "body"},
		{name: "malformed JSON on action", method: "POST", path: "/secrets/{s}/protect", body: `{`, arg: "body"},
		{name: "array on action", method: "POST", path: "/secrets/{s}/unprotect", body: `[1]`, arg: "body"},

		// Wrong JSON types.
		{name: "name number", method: "POST", path: "/secrets", body: `{"name":5}`, arg: "name"},
		{name: "tags string", method: "POST", path: "/secrets", body: createBody(`"tags":"x"`), arg: "tags"},
		{name: "tags of numbers", method: "POST", path: "/secrets", body: createBody(`"tags":["a",5]`), arg: "tags"},
		{name: "protected string", method: "POST", path: "/secrets", body: createBody(`"protected":"yes"`), arg: "protected"},
		{name: "description number", method: "POST", path: "/secrets", body: createBody(`"description":1`), arg: "description"},
		{name: "policy string", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":"1h"`), arg: "ephemeral_policy"},
		{name: "ttl number", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":{"time_to_live":1800,"action":"delete"}`), arg: "ephemeral_policy.time_to_live"},
		{name: "type number", method: "POST", path: "/secrets", body: createBody(`"type":1`), arg: "type"},
		{name: "update name number", method: "PATCH", path: "/secrets/{s}", body: `{"name":5}`, arg: "name"},
		{name: "update tags string", method: "PATCH", path: "/secrets/{s}", body: `{"tags":"x"}`, arg: "tags"},
		{name: "update malformed", method: "PATCH", path: "/secrets/{s}", body: `{"name":"x"`, arg: "body"},
		{name: "data number", method: "POST", path: "/secrets/{s}/versions", body: `{"data":5}`, arg: "data"},
		{name: "crc string", method: "POST", path: "/secrets/{s}/versions", body: fmt.Sprintf(`{"data":%q,"data_crc32":"x"}`, b64("v3")), arg: "data_crc32"},
		{name: "crc negative", method: "POST", path: "/secrets/{s}/versions", body: fmt.Sprintf(`{"data":%q,"data_crc32":-1}`, b64("v3")), arg: "data_crc32"},
		{name: "crc over 32 bits", method: "POST", path: "/secrets/{s}/versions", body: fmt.Sprintf(`{"data":%q,"data_crc32":4294967296}`, b64("v3")), arg: "data_crc32"},
		{name: "crc fraction", method: "POST", path: "/secrets/{s}/versions", body: fmt.Sprintf(`{"data":%q,"data_crc32":1.5}`, b64("v3")), arg: "data_crc32"},
		{name: "disable_previous string", method: "POST", path: "/secrets/{s}/versions", body: fmt.Sprintf(`{"data":%q,"disable_previous":"yes"}`, b64("v3")), arg: "disable_previous"},
		{name: "version description number", method: "PATCH", path: "/secrets/{s}/versions/1", body: `{"description":5}`, arg: "description"},
		{name: "version properties string", method: "PATCH", path: "/secrets/{s}/versions/1", body: `{"ephemeral_properties":"x"}`, arg: "ephemeral_properties"},
		{name: "product number", method: "POST", path: "/secrets/{s}/add-owner", body: `{"product":5}`, arg: "product"},

		// Unknown enum values.
		{name: "unknown type", method: "POST", path: "/secrets", body: createBody(`"type":"password"`), arg: "type"},
		{name: "unknown action", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":{"time_to_live":"60s","action":"explode"}`), arg: "ephemeral_policy.action"},
		{name: "unset action", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":{"time_to_live":"60s","action":"unknown_action"}`), arg: "ephemeral_policy.action"},
		{name: "update unknown action", method: "PATCH", path: "/secrets/{s}", body: `{"ephemeral_policy":{"time_to_live":"60s","action":"explode"}}`, arg: "ephemeral_policy.action"},
		{name: "version unknown action", method: "PATCH", path: "/secrets/{s}/versions/1", body: `{"ephemeral_properties":{"action":"explode"}}`, arg: "ephemeral_properties.action"},
		{name: "unknown product", method: "POST", path: "/secrets/{s}/add-owner", body: `{"product":"lambda"}`, arg: "product"},
		{name: "unset product", method: "POST", path: "/secrets/{s}/add-owner", body: `{"product":"unknown_product"}`, arg: "product"},
		{name: "list unknown order", method: "GET", path: "/secrets?order_by=size_asc", arg: "order_by"},
		{name: "list unknown type", method: "GET", path: "/secrets?type=password", arg: "type"},
		{name: "browse unknown order", method: "GET", path: "/secrets/browse?order_by=size_asc", arg: "order_by"},
		{name: "browse unknown type", method: "GET", path: "/secrets/browse?type=password", arg: "type"},
		{name: "versions unknown status", method: "GET", path: "/secrets/{s}/versions?status=enabled&status=gone", arg: "status"},

		// Durations.
		{name: "ttl in minutes", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":{"time_to_live":"30m","action":"delete"}`), arg: "ephemeral_policy.time_to_live"},
		{name: "ttl without unit", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":{"time_to_live":"1800","action":"delete"}`), arg: "ephemeral_policy.time_to_live"},
		{name: "ttl negative", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":{"time_to_live":"-5s","action":"delete"}`), arg: "ephemeral_policy.time_to_live"},
		{name: "ttl under a second", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":{"time_to_live":"0.5s","action":"delete"}`), arg: "ephemeral_policy.time_to_live"},
		{name: "ttl over a year", method: "POST", path: "/secrets", body: createBody(`"ephemeral_policy":{"time_to_live":"31536001s","action":"delete"}`), arg: "ephemeral_policy.time_to_live"},
		{name: "expires_at not a time", method: "PATCH", path: "/secrets/{s}/versions/1", body: `{"ephemeral_properties":{"expires_at":"tomorrow"}}`, arg: "ephemeral_properties.expires_at"},

		// UUIDs.
		{name: "project not a UUID", method: "POST", path: "/secrets", body: `{"project_id":"not-a-uuid","name":"x"}`, arg: "project_id"},
		{name: "project empty", method: "POST", path: "/secrets", body: `{"project_id":"","name":"x"}`, arg: "project_id"},
		{name: "project of 36 non-hex", method: "POST", path: "/secrets", body: `{"project_id":"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz","name":"x"}`, arg: "project_id"},
		{name: "project in braces", method: "POST", path: "/secrets", body: fmt.Sprintf(`{"project_id":"{%s}","name":"x"}`, project), arg: "project_id"},
		{name: "unknown project", method: "POST", path: "/secrets", body: fmt.Sprintf(`{"project_id":%q,"name":"x"}`, missing), status: 404, arg: "project"},
		{name: "key not a UUID", method: "POST", path: "/secrets", body: createBody(`"key_id":"my-key"`), arg: "key_id"},
		{name: "unknown key", method: "POST", path: "/secrets", body: createBody(fmt.Sprintf(`"key_id":%q`, missing)), status: 404, arg: "key"},
		{name: "get id not a UUID", method: "GET", path: "/secrets/not-a-uuid", arg: "secret_id"},
		{name: "get id too short", method: "GET", path: "/secrets/" + missing[:35], arg: "secret_id"},
		{name: "get id encoded dots", method: "GET", path: "/secrets/%2e%2e", arg: "path"},
		{name: "get unknown id", method: "GET", path: "/secrets/{missing}", status: 404, arg: "secret"},
		{name: "get upper-case id", method: "GET", path: "/secrets/" + strings.ToUpper(missing), status: 404, arg: "secret"},
		{name: "update id not a UUID", method: "PATCH", path: "/secrets/not-a-uuid", body: `{"name":"x"}`, arg: "secret_id"},
		{name: "update unknown id", method: "PATCH", path: "/secrets/{missing}", body: `{"name":"x"}`, status: 404, arg: "secret"},
		{name: "delete id not a UUID", method: "DELETE", path: "/secrets/not-a-uuid", arg: "secret_id"},
		{name: "delete unknown id", method: "DELETE", path: "/secrets/{missing}", status: 404, arg: "secret"},
		{name: "protect id not a UUID", method: "POST", path: "/secrets/x/protect", body: `{}`, arg: "secret_id"},
		{name: "restore unknown id", method: "POST", path: "/secrets/{missing}/restore", body: `{}`, status: 404, arg: "secret"},
		{name: "add-owner unknown id", method: "POST", path: "/secrets/{missing}/add-owner", body: `{"product":"s2s_vpn"}`, status: 404, arg: "secret"},
		{name: "versions id not a UUID", method: "GET", path: "/secrets/not-a-uuid/versions", arg: "secret_id"},
		{name: "versions unknown id", method: "GET", path: "/secrets/{missing}/versions", status: 404, arg: "secret"},
		{name: "new version id not a UUID", method: "POST", path: "/secrets/not-a-uuid/versions", body: fmt.Sprintf(`{"data":%q}`, b64("x")), arg: "secret_id"},
		{name: "new version unknown id", method: "POST", path: "/secrets/{missing}/versions", body: fmt.Sprintf(`{"data":%q}`, b64("x")), status: 404, arg: "secret"},
		{name: "access id not a UUID", method: "GET", path: "/secrets/not-a-uuid/versions/latest/access", arg: "secret_id"},
		{name: "access unknown id", method: "GET", path: "/secrets/{missing}/versions/1/access", status: 404, arg: "secret"},
		{name: "access unknown revision", method: "GET", path: "/secrets/{s}/versions/99/access", status: 404, arg: "secret_version"},
		{name: "get unknown revision", method: "GET", path: "/secrets/{s}/versions/3", status: 404, arg: "secret_version"},
		{name: "delete unknown revision", method: "DELETE", path: "/secrets/{s}/versions/3", status: 404, arg: "secret_version"},
		{name: "enable unknown revision", method: "POST", path: "/secrets/{s}/versions/4294967295/enable", body: `{}`, status: 404, arg: "secret_version"},
		{name: "list project not a UUID", method: "GET", path: "/secrets?project_id=x", arg: "project_id"},
		{name: "list unknown project", method: "GET", path: "/secrets?project_id={missing}", status: 404, arg: "project"},
		{name: "list organization not a UUID", method: "GET", path: "/secrets?organization_id=x", arg: "organization_id"},
		{name: "browse project not a UUID", method: "GET", path: "/secrets/browse?project_id=x", arg: "project_id"},
		{name: "tags project not a UUID", method: "GET", path: "/tags?project_id=x", arg: "project_id"},
		{name: "tags unknown project", method: "GET", path: "/tags?project_id={missing}", status: 404, arg: "project"},
		{name: "types project not a UUID", method: "GET", path: "/secret-types?project_id=x", arg: "project_id"},
		{name: "types unknown project", method: "GET", path: "/secret-types?project_id={missing}", status: 404, arg: "project"},
		{name: "by-path project not a UUID", method: "GET", path: "/secrets-by-path/versions/latest/access?secret_path=/app&secret_name=fixture&project_id=x", arg: "project_id"},
		{name: "by-path unknown project", method: "GET", path: "/secrets-by-path/versions/latest/access?secret_path=/app&secret_name=fixture&project_id={missing}", status: 404, arg: "secret"},
		{name: "by-path unknown name", method: "GET", path: "/secrets-by-path/versions/latest/access?secret_path=/app&secret_name=nope&project_id={project}", status: 404, arg: "secret"},

		// Payloads.
		{name: "data missing", method: "POST", path: "/secrets/{s}/versions", body: `{}`, arg: "data"},
		{name: "data null", method: "POST", path: "/secrets/{s}/versions", body: `{"data":null}`, arg: "data"},
		{name: "data unpadded", method: "POST", path: "/secrets/{s}/versions", body: `{"data":"YQ"}`, arg: "data"},
		{name: "data URL-safe", method: "POST", path: "/secrets/{s}/versions", body: `{"data":"-_-_"}`, arg: "data"},
		{name: "data garbage", method: "POST", path: "/secrets/{s}/versions", body: `{"data":"!!!!"}`, arg: "data"},
		{name: "data spaced", method: "POST", path: "/secrets/{s}/versions", body: `{"data":"Y Q = ="}`, arg: "data"},
		{name: "data stray bits", method: "POST", path: "/secrets/{s}/versions", body: `{"data":"YR=="}`, arg: "data"},
		{name: "data over 64 KiB", method: "POST", path: "/secrets/{s}/versions", body: overValue, arg: "data"},
		{name: "crc mismatch", method: "POST", path: "/secrets/{s}/versions", body: fmt.Sprintf(`{"data":%q,"data_crc32":1}`, b64("v3")), arg: "data_crc32"},
		{name: "nested key_value", method: "POST", path: "/secrets/{kv}/versions", body: fmt.Sprintf(`{"data":%q}`, b64(`{"a":{"b":"c"}}`)), arg: "data"},
		{name: "key_value not JSON", method: "POST", path: "/secrets/{kv}/versions", body: fmt.Sprintf(`{"data":%q}`, b64(`a=b`)), arg: "data"},

		// Query parameters.
		{name: "ephemeral not a boolean", method: "GET", path: "/secrets?ephemeral=maybe", arg: "ephemeral"},
		{name: "scheduled 1", method: "GET", path: "/secrets?scheduled_for_deletion=1", arg: "scheduled_for_deletion"},
		{name: "page 0", method: "GET", path: "/secrets?page=0", arg: "page"},
		{name: "page negative", method: "GET", path: "/secrets?page=-1", arg: "page"},
		{name: "page not a number", method: "GET", path: "/secrets?page=two", arg: "page"},
		{name: "page_size negative", method: "GET", path: "/secrets?page_size=-1", arg: "page_size"},
		{name: "page_size too large", method: "GET", path: "/secrets?page_size=1000", arg: "page_size"},
		{name: "versions page_size not a number", method: "GET", path: "/secrets/{s}/versions?page_size=ten", arg: "page_size"},
		{name: "tags page not a number", method: "GET", path: "/tags?page=x", arg: "page"},
		{name: "types page 0", method: "GET", path: "/secret-types?page=0", arg: "page"},
		{name: "browse page_size too large", method: "GET", path: "/secrets/browse?page_size=101", arg: "page_size"},
	}

	// Names and paths.
	for _, name := range []string{"", "a/b", "a b", "..", ".", "naïve", "%2e%2e", "tab\tname", "semi;colon", long} {
		cases = append(cases,
			badCase{name: fmt.Sprintf("create name %q", name), method: "POST", path: "/secrets", body: createName(name), arg: "name"},
			badCase{name: fmt.Sprintf("rename to %q", name), method: "PATCH", path: "/secrets/{s}", body: fmt.Sprintf(`{"name":%q}`, name), arg: "name"},
			badCase{name: fmt.Sprintf("by-path name %q", name), method: "GET", path: "/secrets-by-path/versions/latest/access?secret_path=%2Fapp&project_id={project}&secret_name=" + url.QueryEscape(name), arg: "secret_name"},
		)
	}
	for _, path := range []string{"app", "/a/../b", "/a/./b", "/..", "/a/..", "/.", "/a//b", "//", "/%2e%2e", "/a/%2e%2e/b", "/a b", "/" + long, `/a\b`} {
		q := url.QueryEscape(path)
		cases = append(cases,
			badCase{name: fmt.Sprintf("create path %q", path), method: "POST", path: "/secrets", body: createPath(path), arg: "path"},
			badCase{name: fmt.Sprintf("move to %q", path), method: "PATCH", path: "/secrets/{s}", body: fmt.Sprintf(`{"path":%q}`, path), arg: "path"},
			badCase{name: fmt.Sprintf("list path %q", path), method: "GET", path: "/secrets?path=" + q, arg: "path"},
			badCase{name: fmt.Sprintf("browse prefix %q", path), method: "GET", path: "/secrets/browse?prefix=" + q, arg: "prefix"},
			badCase{name: fmt.Sprintf("by-path path %q", path), method: "GET", path: "/secrets-by-path/versions/latest/access?secret_name=fixture&project_id={project}&secret_path=" + q, arg: "secret_path"},
		)
	}
	cases = append(cases,
		badCase{name: "description too long", method: "POST", path: "/secrets", body: createBody(fmt.Sprintf(`"description":%q`, strings.Repeat("d", 4097))), arg: "description"},
		badCase{name: "empty tag", method: "POST", path: "/secrets", body: createBody(`"tags":["ok",""]`), arg: "tags"},
		badCase{name: "too many tags", method: "POST", path: "/secrets", body: createBody(`"tags":["t` + strings.Repeat(`","t`, 100) + `"]`), arg: "tags"},
		badCase{name: "list path with encoded dots", method: "GET", path: "/secrets?path=%2Fa%2F%2e%2e", arg: "path"},
		badCase{name: "browse prefix with encoded dots", method: "GET", path: "/secrets/browse?prefix=%2F%2e%2e%2Fapp", arg: "prefix"},
		badCase{name: "by-path path with encoded dots", method: "GET", path: "/secrets-by-path/versions/latest/access?secret_name=fixture&project_id={project}&secret_path=/app/%2e%2e/app", arg: "secret_path"},
		badCase{name: "by-path name encoded dots", method: "GET", path: "/secrets-by-path/versions/latest/access?secret_name=%2e%2e&project_id={project}&secret_path=/app", arg: "secret_name"},
		badCase{name: "tag with a newline", method: "PATCH", path: "/secrets/{s}", body: `{"tags":["a\nb"]}`, arg: "tags"},
	)

	// Revisions, on every route that takes one.
	revRoutes := []struct{ method, path, body string }{
		{"GET", "/secrets/{s}/versions/%s", ""},
		{"PATCH", "/secrets/{s}/versions/%s", `{"description":"x"}`},
		{"DELETE", "/secrets/{s}/versions/%s", ""},
		{"GET", "/secrets/{s}/versions/%s/access", ""},
		{"POST", "/secrets/{s}/versions/%s/enable", `{}`},
		{"POST", "/secrets/{s}/versions/%s/disable", `{}`},
		{"POST", "/secrets/{s}/versions/%s/restore", `{}`},
		{"GET", "/secrets-by-path/versions/%s/access?secret_path=%%2Fapp&secret_name=fixture&project_id={project}", ""},
	}
	for _, rev := range []string{"0", "-1", "99999999999", "4294967296", "latest_foo", "LATEST", "01", "+1", "1.0", "0x1", "%201", "1%20", "%2e%2e"} {
		arg := "revision"
		if rev == "%2e%2e" {
			// A dot segment, even encoded, is refused as a path before
			// routing: a redirect to the cleaned path would reach the parent.
			arg = "path"
		}
		for _, rt := range revRoutes {
			cases = append(cases, badCase{
				name:   fmt.Sprintf("revision %q %s %s", rev, rt.method, rt.path),
				method: rt.method, path: fmt.Sprintf(rt.path, rev), body: rt.body, arg: arg,
			})
		}
	}

	replacer := strings.NewReplacer("{s}", sid, "{kv}", kid, "{missing}", missing, "{project}", project)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := *c
			c.t = t
			status, typ := tc.status, "not_found"
			if status == 0 {
				status, typ = http.StatusBadRequest, "invalid_arguments"
			}
			r := c.do(tc.method, apiPath(replacer.Replace(tc.path)), tc.body, tc.header...)
			checkWireError(t, r, status, typ, tc.arg)
			if after := state(t); after != before {
				t.Fatalf("the refused request changed the state:\n%s", cmp.Diff(before, after))
			}
		})
	}
	if after := wireState(); after != wireBefore {
		t.Fatalf("the refused requests changed what the API shows:\n%s", cmp.Diff(wireBefore, after))
	}
}

// TestBadInputRoutes checks answers that do not reach a handler's logic.
func TestBadInputRoutes(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t)
	c := newRawClient(t, n)
	id := jsonObject(t, c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"s"}`, n.Creds.ProjectID)))["id"].(string)

	for _, tc := range []struct {
		name, method, path string
		status             int
		typ, resource      string
	}{
		{"unknown region", "GET", regionPath("pl-waw") + "/secrets", 404, "not_found", "region"},
		{"unknown region, bad format", "GET", regionPath("paris") + "/secrets/" + id, 404, "not_found", "region"},
		{"unknown route", "GET", apiPath("/secrets/" + id + "/owners"), 404, "not_found", "route"},
		{"unknown method", "PUT", apiPath("/secrets/" + id), 404, "not_found", "route"},
		{"unknown API version", "GET", apiPrefix[:len("/secret-manager/")] + "v1alpha1/regions/fr-par/secrets", 404, "not_found", "route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *c
			c.t = t
			checkWireError(t, c.do(tc.method, tc.path, ""), tc.status, tc.typ, tc.resource)
		})
	}
}

func TestAuthenticationWire(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t)
	c := newRawClient(t, n)
	for name, header := range map[string][]string{
		"no token":        {"X-Auth-Token", "-"},
		"wrong token":     {"X-Auth-Token", uuid.NewString()},
		"access key":      {"X-Auth-Token", n.Creds.AccessKey},
		"oversized token": {"X-Auth-Token", strings.Repeat("a", 4096)},
	} {
		t.Run(name, func(t *testing.T) {
			c := *c
			c.t = t
			for _, rq := range []struct{ method, path, body string }{
				{"GET", apiPath("/secrets"), ""},
				{"POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"intruder"}`, n.Creds.ProjectID)},
			} {
				r := c.do(rq.method, rq.path, rq.body, header...)
				checkWireError(t, r, http.StatusUnauthorized, "denied_authentication", "")
				var m map[string]any
				_ = json.Unmarshal(r.Body, &m)
				if m["method"] != "api_key" {
					t.Errorf("method %v, want api_key", m["method"])
				}
			}
		})
	}
	if list := jsonObject(t, c.ok(200, "GET", apiPath("/secrets"), "")); list["total_count"] != 0.0 {
		t.Errorf("refused requests created secrets: %v", list)
	}

	// /metadata answers without a token too: clients call it to build SRNs.
	for _, header := range [][]string{nil, {"X-Auth-Token", "-"}} {
		body := c.ok(200, "GET", "/metadata", "", header...)
		wantDiff(t, "metadata", map[string]any{"platform": "external", "partition": "scw", "domain": "scw.eu"}, jsonObject(t, body))
	}
}

var wireTimestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

// wantTimestamp checks that m[key] is a timestamp in the service's format and
// returns it.
func wantTimestamp(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok || !wireTimestampRE.MatchString(s) {
		t.Errorf("%s = %#v, want a timestamp like 2026-07-03T15:27:54.719648Z", key, m[key])
	}
	return s
}

func TestWireShapes(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t)
	c := newRawClient(t, n)
	project := n.Creds.ProjectID

	// Empty listings are empty arrays.
	for _, tc := range []struct{ path, want string }{
		{"/secrets", `{"secrets":[],"total_count":0}`},
		{"/secret-types?project_id=" + project, `{"types":[],"total_count":0}`},
		{"/tags?project_id=" + project, `{"tags":[],"total_count":0}`},
		{"/secrets/browse", `{"items":[],"current_path":"/","total_count":0}`},
		{"/secrets/browse?prefix=%2Fnowhere%2F", `{"items":[],"current_path":"/nowhere","total_count":0}`},
	} {
		wantDiff(t, tc.path, tc.want, string(c.ok(200, "GET", apiPath(tc.path), "")))
	}

	// A secret as the Go SDK creates it, and as the JS SDK does.
	body := c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"shape","tags":null,"type":"unknown_type","protected":false}`, project))
	s := jsonObject(t, body)
	created := wantTimestamp(t, s, "created_at")
	wantDiff(t, "secret", map[string]any{
		"srn": "", "id": s["id"], "project_id": project, "name": "shape", "status": "ready",
		"created_at": created, "updated_at": created, "tags": []any{}, "version_count": 0.0,
		"description": "", "managed": false, "type": "opaque", "protected": false, "path": "/",
		"ephemeral_policy": nil, "used_by": []any{}, "deletion_requested_at": nil, "key_id": nil,
		"region": "fr-par",
	}, s)
	sid := s["id"].(string)
	js := jsonObject(t, c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"js","path":"/web/"}`, project),
		"Content-Type", "application/json; charset=utf-8"))
	if js["path"] != "/web" || js["type"] != "opaque" {
		t.Errorf("JS-style secret: path %v type %v", js["path"], js["type"])
	}

	// Ephemeral policies as recorded.
	for i, tc := range []struct{ in, want string }{
		{`{"time_to_live":"1800.000000000s","expires_once_accessed":false,"action":"disable"}`, `{"time_to_live":"1800s","expires_once_accessed":false,"action":"disable"}`},
		{`{"time_to_live":null,"expires_once_accessed":true,"action":"delete"}`, `{"time_to_live":null,"expires_once_accessed":true,"action":"delete"}`},
		{`{"time_to_live":"90.5s","action":"delete"}`, `{"time_to_live":"90.5s","expires_once_accessed":false,"action":"delete"}`},
	} {
		e := jsonObject(t, c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"eph-%d","ephemeral_policy":%s}`, project, i, tc.in)))
		var want any
		_ = json.Unmarshal([]byte(tc.want), &want)
		wantDiff(t, "ephemeral_policy", want, e["ephemeral_policy"])
	}

	// A version.
	v := jsonObject(t, c.ok(200, "POST", apiPath("/secrets/"+sid+"/versions"), `{"data":"bXlfc3VwZXJfc2VjcmV0","description":"version1"}`))
	vt := wantTimestamp(t, v, "created_at")
	wantDiff(t, "version", map[string]any{
		"revision": 1.0, "secret_id": sid, "status": "enabled", "created_at": vt, "updated_at": vt,
		"deleted_at": nil, "description": "version1", "latest": true, "ephemeral_properties": nil,
		"deletion_requested_at": nil, "region": "fr-par",
	}, v)
	v2 := jsonObject(t, c.ok(200, "POST", apiPath("/secrets/"+sid+"/versions"), `{"data":"YQ==","data_crc32":3904355907}`))
	if v2["description"] != "" {
		t.Errorf("version without description: %#v", v2["description"])
	}

	// Access: padded base64, the concrete revision, the CRC only when given.
	wantDiff(t, "access 1", map[string]any{"secret_id": sid, "revision": 1.0, "data": "bXlfc3VwZXJfc2VjcmV0", "data_crc32": nil, "type": "opaque"},
		jsonObject(t, c.ok(200, "GET", apiPath("/secrets/"+sid+"/versions/1/access"), "")))
	wantDiff(t, "access latest", map[string]any{"secret_id": sid, "revision": 2.0, "data": "YQ==", "data_crc32": 3904355907.0, "type": "opaque"},
		jsonObject(t, c.ok(200, "GET", apiPath("/secrets/"+sid+"/versions/latest/access"), "")))
	empty := jsonObject(t, c.ok(200, "POST", apiPath("/secrets/"+sid+"/versions"), `{"data":""}`))
	wantDiff(t, "access empty", map[string]any{"secret_id": sid, "revision": empty["revision"], "data": "", "data_crc32": nil, "type": "opaque"},
		jsonObject(t, c.ok(200, "GET", apiPath("/secrets/"+sid+"/versions/3/access"), "")))

	// Ephemeral properties of a version.
	eph := jsonObject(t, c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"eph","ephemeral_policy":{"time_to_live":"1800s","action":"disable"}}`, project)))
	ev := jsonObject(t, c.ok(200, "POST", apiPath("/secrets/"+eph["id"].(string)+"/versions"), `{"data":"YQ=="}`))
	props, _ := ev["ephemeral_properties"].(map[string]any)
	if props == nil {
		t.Fatalf("version of an ephemeral secret: ephemeral_properties %#v", ev["ephemeral_properties"])
	}
	wantTimestamp(t, props, "expires_at")
	wantDiff(t, "ephemeral properties", map[string]any{"expires_at": props["expires_at"], "expires_once_accessed": false, "action": "disable"}, props)

	// Listings.
	list := jsonObject(t, c.ok(200, "GET", apiPath("/secrets/"+sid+"/versions"), ""))
	if vs, _ := list["versions"].([]any); len(vs) != 3 || list["total_count"] != 3.0 {
		t.Errorf("versions listing: %s", mustJSON(t, list))
	}
	browse := jsonObject(t, c.ok(200, "GET", apiPath("/secrets/browse"), ""))
	var folder, secretItem map[string]any
	for _, it := range browse["items"].([]any) {
		m := it.(map[string]any)
		switch m["name"] {
		case "web":
			folder = m
		case "shape":
			secretItem = m
		}
	}
	if folder == nil || secretItem == nil {
		t.Fatalf("browse: %s", mustJSON(t, browse))
	}
	wantTimestamp(t, folder, "created_at")
	wantDiff(t, "folder item", map[string]any{"name": "web", "created_at": folder["created_at"], "updated_at": folder["updated_at"], "folder": map[string]any{}}, folder)
	wantDiff(t, "secret item", map[string]any{
		"name": "shape", "created_at": created, "updated_at": created,
		"secret": map[string]any{"id": sid, "tags": []any{}, "version_count": 3.0, "protected": false, "ephemeral_policy": nil, "type": "opaque"},
	}, secretItem)

	// The error bodies the service was recorded sending (spec §7.2).
	kv := jsonObject(t, c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"kv","type":"key_value"}`, project)))
	r := c.do("POST", apiPath("/secrets/"+kv["id"].(string)+"/versions"), `{"data":"eyJrZXkiOiAidmFsdWUiLCAiaW52YWxpZCI6IHt9fQ==","description":"version1"}`)
	checkWireError(t, r, http.StatusBadRequest, "invalid_arguments", "data")
	wantDiff(t, "nested key_value", map[string]any{
		"details": []any{map[string]any{"argument_name": "data", "help_message": "- invalid: Invalid type. Expected: string, given: object\n", "reason": "format"}},
		"message": "invalid argument(s)", "type": "invalid_arguments",
	}, jsonObject(t, r.Body))
	guarded := jsonObject(t, c.ok(200, "POST", apiPath("/secrets"), fmt.Sprintf(`{"project_id":%q,"name":"guarded","protected":true}`, project)))
	r = c.do("DELETE", apiPath("/secrets/"+guarded["id"].(string)), "")
	checkWireError(t, r, http.StatusPreconditionFailed, "precondition_failed", "")
	wantDiff(t, "protected delete", map[string]any{
		"help_message": "cannot delete a protected secret", "message": "precondition is not respected",
		"precondition": "protected_resource", "type": "precondition_failed",
	}, jsonObject(t, r.Body))
	ephID := eph["id"].(string)
	if r := c.do("DELETE", apiPath("/secrets/"+ephID), ""); r.Status != http.StatusNoContent {
		t.Fatalf("delete ephemeral secret: %d %s", r.Status, r.Body)
	}
	r = c.do("GET", apiPath("/secrets/"+ephID), "")
	checkWireError(t, r, http.StatusNotFound, "not_found", "secret")
	wantDiff(t, "deleted ephemeral secret", map[string]any{
		"message": "resource is not found", "resource": "secret", "resource_id": ephID, "type": "not_found",
	}, jsonObject(t, r.Body))

	// Deletions answer 204, empty, still labelled JSON.
	for _, rq := range []struct{ method, path, body string }{
		{"POST", apiPath("/secrets/" + sid + "/add-owner"), `{"product":"edge_services"}`},
		{"DELETE", apiPath("/secrets/" + sid + "/versions/1"), ""},
		{"DELETE", apiPath("/secrets/" + sid), ""},
	} {
		r := c.do(rq.method, rq.path, rq.body)
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Errorf("%s %s: status %d body %q, want 204 and no body", rq.method, rq.path, r.Status, r.Body)
		}
		checkContentType(t, r)
	}
	gone := jsonObject(t, c.ok(200, "GET", apiPath("/secrets/"+sid), ""))
	wantTimestamp(t, gone, "deletion_requested_at")
	wantDiff(t, "used_by", []any{"edge_services"}, gone["used_by"])
	dv := jsonObject(t, c.ok(200, "GET", apiPath("/secrets/"+sid+"/versions/1"), ""))
	wantTimestamp(t, dv, "deletion_requested_at")
	if dv["status"] != "scheduled_for_deletion" || dv["deleted_at"] != nil {
		t.Errorf("deleted version: status %v deleted_at %v", dv["status"], dv["deleted_at"])
	}
}
