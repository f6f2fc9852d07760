package okms_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
)

// Error codes of the OKMS error body.
const (
	codeNotFound     = 17125377
	codeUnauthorized = 50475011
	codeForbidden    = 16924673
	codeInvalid      = 50405377
	codeConflict     = 50438145
	codeNoRoute      = 50417665
)

// TestBadInput sends what the SDK never would. Each request must fail with
// the status and error_code given, in the OKMS error format, with a
// message that says what is wrong; and none may change anything.
func TestBadInput(t *testing.T) {
	_, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"app/kept","version":{"data":{"k":"v"}}}`)
	c.ok(200, "POST", "/secret", `{"path":"gone","version":{"data":{"k":"v"}}}`)
	c.ok(200, "PUT", "/secret/gone/version/1", `{"state":"deleted"}`)
	before := c.ok(200, "GET", "/secret/app%2Fkept/version", "")
	big := `{"path":"big","version":{"data":{"k":"` + strings.Repeat("x", 2<<20) + `"}}}`
	overValue := `{"path":"big","version":{"data":{"k":"` + strings.Repeat("x", 64<<10) + `"}}}`
	foreignCursor := base64.RawURLEncoding.EncodeToString([]byte("offset=10"))

	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     int32
		msg                      string // a substring of the message
	}{
		// Bodies.
		{name: "malformed JSON", method: "POST", path: "/secret", body: `{"path":`, msg: "malformed JSON"},
		{name: "trailing garbage", method: "POST", path: "/secret", body: `{"path":"x","version":{"data":{}}} x`, msg: "malformed JSON"},
		{name: "array body", method: "POST", path: "/secret", body: `[]`, msg: "must be a JSON object"},
		{name: "string body", method: "PUT", path: "/secret/app%2Fkept", body: `"x"`, msg: "must be a JSON object"},
		{name: "no path", method: "POST", path: "/secret", body: `{"version":{"data":{}}}`, msg: "path is required"},
		{name: "no version", method: "POST", path: "/secret", body: `{"path":"x"}`, msg: "version is required"},
		{name: "no data", method: "POST", path: "/secret", body: `{"path":"x","version":{}}`, msg: "version.data is required"},
		{name: "null data", method: "POST", path: "/secret", body: `{"path":"x","version":{"data":null}}`, msg: "version.data is required"},
		{name: "string data", method: "POST", path: "/secret", body: `{"path":"x","version":{"data":"secret"}}`, msg: "version.data must be a JSON object"},
		{name: "array data", method: "POST", path: "/secret", body: `{"path":"x","version":{"data":[1]}}`, msg: "version.data must be a JSON object"},
		{name: "number data", method: "PUT", path: "/secret/app%2Fkept", body: `{"version":{"data":5}}`, msg: "version.data must be a JSON object"},
		{name: "version data string", method: "POST", path: "/secret/app%2Fkept/version", body: `{"data":"x"}`, msg: "data must be a JSON object"},
		{name: "version no data", method: "POST", path: "/secret/app%2Fkept/version", body: `{}`, msg: "data is required"},
		{name: "version empty body", method: "POST", path: "/secret/app%2Fkept/version", body: ``, msg: "data is required"},
		{name: "path not a string", method: "POST", path: "/secret", body: `{"path":5,"version":{"data":{}}}`, msg: "path must be a string"},
		{name: "maxVersions negative", method: "PUT", path: "/secret/app%2Fkept", body: `{"metadata":{"maxVersions":-1}}`, msg: "metadata.maxVersions must be an integer"},
		{name: "maxVersions too large", method: "PUT", path: "/secret/app%2Fkept", body: `{"metadata":{"maxVersions":20000}}`, msg: "maxVersions must be between 0 and 10000"},
		{name: "casRequired a string", method: "PUT", path: "/secret/app%2Fkept", body: `{"metadata":{"casRequired":"yes"}}`, msg: "metadata.casRequired must be a boolean"},
		{name: "customMetadata number", method: "PUT", path: "/secret/app%2Fkept", body: `{"metadata":{"customMetadata":{"a":1}}}`, msg: "metadata.customMetadata must be a string"},
		{name: "customMetadata empty value", method: "PUT", path: "/secret/app%2Fkept", body: `{"metadata":{"customMetadata":{"a":""}}}`, msg: "customMetadata"},
		{name: "duration unit", method: "PUT", path: "/secret/app%2Fkept", body: `{"metadata":{"deactivateVersionAfter":"1y"}}`, msg: "deactivateVersionAfter must be a duration"},
		{name: "duration negative", method: "PUT", path: "/secretConfig", body: `{"deactivateVersionAfter":"-1h"}`, msg: "deactivateVersionAfter must be a duration"},
		{name: "duration days fraction", method: "PUT", path: "/secretConfig", body: `{"deactivateVersionAfter":"1.5d"}`, msg: "deactivateVersionAfter must be a duration"},
		{name: "config maxVersions", method: "PUT", path: "/secretConfig", body: `{"maxVersions":99999}`, msg: "maxVersions must be between 0 and 10000"},
		{name: "state missing", method: "PUT", path: "/secret/app%2Fkept/version/1", body: `{}`, msg: "state is required"},
		{name: "state unknown", method: "PUT", path: "/secret/app%2Fkept/version/1", body: `{"state":"activated"}`, msg: "state must be active, deactivated or deleted"},
		{name: "state a number", method: "PUT", path: "/secret/app%2Fkept/version/1", body: `{"state":1}`, msg: "state must be a string"},
		{name: "deleted to active", method: "PUT", path: "/secret/gone/version/1", body: `{"state":"active"}`, msg: "destroyed cannot be enabled"},
		{name: "oversized body", method: "POST", path: "/secret", body: big, status: 413, msg: "at most 1048576 bytes"},
		{name: "oversized value", method: "POST", path: "/secret", body: overValue, msg: "at most 65536 bytes"},
		{name: "text/plain", method: "POST", path: "/secret", body: `{"path":"x","version":{"data":{}}}`, header: []string{"Content-Type", "text/plain"}, msg: "application/json"},
		{name: "form", method: "PUT", path: "/secret/app%2Fkept", body: `metadata=x`, header: []string{"Content-Type", "application/x-www-form-urlencoded"}, msg: "application/json"},
		{name: "bad media type", method: "PUT", path: "/secretConfig", body: `{}`, header: []string{"Content-Type", "application/json; ="}, msg: "application/json"},

		// Query parameters.
		{name: "cas letters", method: "PUT", path: "/secret/app%2Fkept?cas=abc", body: `{"version":{"data":{}}}`, msg: "cas must be an integer"},
		{name: "cas negative", method: "POST", path: "/secret/app%2Fkept/version?cas=-1", body: `{"data":{}}`, msg: "cas must be an integer"},
		{name: "cas decimal", method: "POST", path: "/secret/app%2Fkept/version?cas=1.5", body: `{"data":{}}`, msg: "cas must be an integer"},
		{name: "cas empty", method: "POST", path: "/secret/app%2Fkept/version?cas=", body: `{"data":{}}`, msg: "cas must be an integer"},
		{name: "cas plus", method: "POST", path: "/secret/app%2Fkept/version?cas=%2B1", body: `{"data":{}}`, msg: "cas must be an integer"},
		{name: "cas huge", method: "POST", path: "/secret/app%2Fkept/version?cas=99999999999", body: `{"data":{}}`, msg: "cas must be an integer"},
		{name: "cas mismatch", method: "POST", path: "/secret/app%2Fkept/version?cas=7", body: `{"data":{}}`, msg: "did not match the current version"},
		{name: "cas mismatch on update", method: "PUT", path: "/secret/app%2Fkept?cas=0", body: `{"version":{"data":{}}}`, msg: "did not match the current version"},
		{name: "version zero", method: "GET", path: "/secret/app%2Fkept?version=0", msg: "version must be an integer of at least 1"},
		{name: "version letters", method: "GET", path: "/secret/app%2Fkept?version=latest", msg: "version must be an integer"},
		{name: "includeData yes", method: "GET", path: "/secret/app%2Fkept?includeData=yes", msg: "includeData must be true or false"},
		{name: "includeData on a version", method: "GET", path: "/secret/app%2Fkept/version/1?includeData=1", msg: "includeData must be true or false"},
		{name: "bad query encoding", method: "GET", path: "/secret/app%2Fkept?includeData=%zz", msg: "query string"},

		// Versions in the path.
		{name: "version id zero", method: "GET", path: "/secret/app%2Fkept/version/0", msg: "version must be a positive integer"},
		{name: "version id letters", method: "GET", path: "/secret/app%2Fkept/version/abc", msg: "version must be a positive integer"},
		{name: "version id leading zero", method: "PUT", path: "/secret/app%2Fkept/version/01", body: `{"state":"active"}`, msg: "version must be a positive integer"},
		{name: "version id too large", method: "GET", path: "/secret/app%2Fkept/version/4294967296", msg: "version must be a positive integer"},
		{name: "unknown version", method: "GET", path: "/secret/app%2Fkept/version/99", status: 404, code: codeNotFound, msg: `secret version "99" not found`},
		{name: "unknown version in get", method: "GET", path: "/secret/app%2Fkept?version=99&includeData=true", status: 404, code: codeNotFound, msg: "not found"},
		{name: "unknown version state", method: "PUT", path: "/secret/app%2Fkept/version/99", body: `{"state":"deactivated"}`, status: 404, code: codeNotFound},

		// Paths: traversal and empty segments are refused, never resolved.
		{name: "dot dot", method: "GET", path: "/secret/app/../app/kept", msg: "'..'"},
		{name: "dot dot at the end", method: "DELETE", path: "/secret/app/kept/version/..", msg: "'..'"},
		{name: "encoded dot dot", method: "GET", path: "/secret/%2e%2e/app/kept", msg: "'..'"},
		{name: "encoded dot dot upper", method: "DELETE", path: "/secret/app%2F%2E%2E%2Fapp%2Fkept", msg: "'..'"},
		{name: "encoded slash dot dot", method: "GET", path: "/secret/x%2F..%2Fapp%2Fkept", msg: "'..'"},
		{name: "dot", method: "GET", path: "/secret/app/./kept", msg: "'..'"},
		{name: "encoded dot", method: "GET", path: "/secret/app%2F.%2Fkept", msg: "'..'"},
		{name: "empty segment", method: "GET", path: "/secret/app//kept", msg: "empty"},
		{name: "encoded empty segment", method: "GET", path: "/secret/app%2F%2Fkept", msg: "empty"},
		{name: "encoded leading slash", method: "GET", path: "/secret/%2Fapp%2Fkept", msg: "empty"},
		{name: "trailing slash", method: "GET", path: "/secret/app/kept/", msg: "empty"},
		{name: "encoded trailing slash", method: "GET", path: "/secret/app%2Fkept%2F", msg: "empty"},
		{name: "create dot dot", method: "POST", path: "/secret", body: `{"path":"../x","version":{"data":{}}}`, msg: "'..'"},
		{name: "create dot", method: "POST", path: "/secret", body: `{"path":"a/./x","version":{"data":{}}}`, msg: "'..'"},
		{name: "create leading slash", method: "POST", path: "/secret", body: `{"path":"/x","version":{"data":{}}}`, msg: "empty segment"},
		{name: "create trailing slash", method: "POST", path: "/secret", body: `{"path":"x/","version":{"data":{}}}`, msg: "empty segment"},
		{name: "create empty path", method: "POST", path: "/secret", body: `{"path":"","version":{"data":{}}}`, msg: "path is required"},
		{name: "create bad character", method: "POST", path: "/secret", body: `{"path":"a b","version":{"data":{}}}`, msg: "path must be 1 to 255 characters"},
		{name: "create bad folder character", method: "POST", path: "/secret", body: `{"path":"a:b/c","version":{"data":{}}}`, msg: "path segments must be"},
		{name: "create long name", method: "POST", path: "/secret", body: `{"path":"` + strings.Repeat("n", 256) + `","version":{"data":{}}}`, msg: "path must be 1 to 255"},
		{name: "get bad character", method: "GET", path: "/secret/a%20b", msg: "path must be 1 to 255 characters"},

		// Paging.
		{name: "size letters", method: "GET", path: "/secret", header: []string{"X-Pagination-Size", "ten"}, msg: "X-Pagination-Size"},
		{name: "cursor garbage", method: "GET", path: "/secret", header: []string{"X-Pagination-Cursor", "abc"}, msg: "X-Pagination-Cursor is not a cursor"},
		{name: "cursor not base64", method: "GET", path: "/secret", header: []string{"X-Pagination-Cursor", "!!!!"}, msg: "X-Pagination-Cursor is not a cursor"},
		{name: "cursor foreign", method: "GET", path: "/secret", header: []string{"X-Pagination-Cursor", foreignCursor}, msg: "X-Pagination-Cursor is not a cursor"},
		{name: "cursor padded", method: "GET", path: "/secret/app%2Fkept/version", header: []string{"X-Pagination-Cursor", "bzEw=="}, msg: "X-Pagination-Cursor is not a cursor"},

		// Conflicts, routes, methods.
		{name: "duplicate create", method: "POST", path: "/secret", body: `{"path":"app/kept","version":{"data":{}}}`, status: 409, code: codeConflict, msg: "already exists"},
		{name: "unknown route", method: "GET", path: "/keys", status: 404, code: codeNoRoute, msg: "no such route"},
		{name: "prefix", method: "GET", path: "", status: 404, code: codeNoRoute, msg: "no such route"},
		{name: "prefix slash", method: "GET", path: "/", status: 404, code: codeNoRoute, msg: "no such route"},
		{name: "no path", method: "GET", path: "/secret/", msg: "path is required"},
		{name: "method on secrets", method: "PATCH", path: "/secret", status: 405, msg: "method not allowed"},
		{name: "method on a secret", method: "POST", path: "/secret/app%2Fkept", body: `{}`, status: 405, msg: "method not allowed"},
		{name: "method on versions", method: "DELETE", path: "/secret/app%2Fkept/version", status: 405, msg: "method not allowed"},
		{name: "method on a version", method: "DELETE", path: "/secret/app%2Fkept/version/1", status: 405, msg: "method not allowed"},
		{name: "method on config", method: "POST", path: "/secretConfig", body: `{}`, status: 405, msg: "method not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.status == 0 {
				tc.status = http.StatusBadRequest
			}
			if tc.code == 0 {
				tc.code = codeInvalid
			}
			msgs := c.fail(tc.status, tc.code, tc.method, tc.path, tc.body, tc.header...)
			if tc.msg != "" && !strings.Contains(strings.Join(msgs, " | "), tc.msg) {
				t.Errorf("messages %q, want one that contains %q", msgs, tc.msg)
			}
			for _, m := range msgs {
				if len(m) > 512 {
					t.Errorf("message of %d bytes", len(m))
				}
			}
		})
	}
	// Nothing changed.
	if after := c.ok(200, "GET", "/secret/app%2Fkept/version", ""); string(after) != string(before) {
		t.Errorf("versions changed:\n%s\n%s", before, after)
	}
	if a := array(t, c.ok(200, "GET", "/secret", "")); len(a) != 2 {
		t.Errorf("%d secrets, want 2", len(a))
	}
	if r := c.do("GET", "/secret/big", ""); r.Status != 404 {
		t.Errorf("an oversized create left a secret: %d", r.Status)
	}
	if r := c.do("OPTIONS", "/secret", ""); r.Status != 405 || !strings.Contains(r.Header.Get("Allow"), "POST") {
		t.Errorf("OPTIONS: %d, Allow %q", r.Status, r.Header.Get("Allow"))
	}
}

// TestAuthentication: a missing or wrong bearer token is a 401 in the OKMS
// format, before anything else is looked at.
func TestAuthentication(t *testing.T) {
	_, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"s","version":{"data":{}}}`)
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"no header", []string{"Authorization", "-"}},
		{"empty bearer", []string{"Authorization", "Bearer "}},
		{"wrong token", []string{"Authorization", "Bearer " + uuid.NewString()}},
		{"basic", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:"+c.token))}},
		{"token without scheme", []string{"Authorization", c.token}},
		{"vault header only", []string{"Authorization", "-", "X-Vault-Token", c.token}},
		{"scaleway header only", []string{"Authorization", "-", "X-Auth-Token", c.token}},
		{"long token", []string{"Authorization", "Bearer " + strings.Repeat("a", 300)}},
	} {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/secret", ""},
			{"GET", "/secret/s?includeData=true", ""},
			{"DELETE", "/secret/s", ""},
			{"POST", "/secret", `{"path":"t","version":{"data":{}}}`},
			{"PUT", "/secretConfig", `{"maxVersions":1}`},
			{"GET", "/secret/../x", ""},
			{"GET", "/nope", ""},
		} {
			r := c.do(req.method, req.path, req.body, tc.header...)
			want := http.StatusUnauthorized
			if strings.Contains(req.path, "..") {
				want = http.StatusBadRequest // refused before routing
			}
			code := int32(codeUnauthorized)
			if want == http.StatusBadRequest {
				code = codeInvalid
			}
			checkError(t, tc.name+": "+req.method+" "+req.path, r, want, code)
			if want == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q", tc.name, r.Header.Get("WWW-Authenticate"))
			}
		}
	}
	// The scheme is case-insensitive.
	c.ok(200, "GET", "/secret/s", "", "Authorization", "bearer "+c.token)
	// Nothing was written or deleted.
	if a := array(t, c.ok(200, "GET", "/secret", "")); len(a) != 1 {
		t.Errorf("%d secrets, want 1", len(a))
	}
	if m := object(t, c.ok(200, "GET", "/secretConfig", "")); str(field(m, "maxVersions")) != "10" {
		t.Errorf("config changed: %v", m)
	}
}

// TestOtherProjects: an okmsId the caller cannot see answers exactly as a
// missing one: 404 with the secret-not-found code, whether the project
// belongs to another organization or does not exist. A principal of the
// organization without the right gets 403.
func TestOtherProjects(t *testing.T) {
	n, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"mine","version":{"data":{"k":"v"}}}`)
	other := seedPrincipal(t, n, true, true)
	oc := newClient(t, n, other.token, other.projectID)
	oc.ok(200, "POST", "/secret", `{"path":"theirs","version":{"data":{"k":"v"}}}`)
	missing := uuid.NewString()

	for who, cl := range map[string]*client{
		"admin on the other organization's project": c.as(other.projectID),
		"admin on a missing project":                c.as(missing),
		"other organization on the admin's project": oc.as(n.Creds.ProjectID),
	} {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/secret", ""},
			{"POST", "/secret", `{"path":"new","version":{"data":{}}}`},
			{"GET", "/secret/mine?includeData=true", ""},
			{"GET", "/secret/theirs?includeData=true", ""},
			{"PUT", "/secret/theirs", `{"version":{"data":{}}}`},
			{"DELETE", "/secret/mine", ""},
			{"GET", "/secret/theirs/version", ""},
			{"POST", "/secret/mine/version", `{"data":{}}`},
			{"GET", "/secret/mine/version/1?includeData=true", ""},
			{"PUT", "/secret/theirs/version/1", `{"state":"deleted"}`},
			{"GET", "/secretConfig", ""},
			{"PUT", "/secretConfig", `{"maxVersions":3}`},
		} {
			r := cl.do(req.method, req.path, req.body)
			checkError(t, who+": "+req.method+" "+req.path, r, http.StatusNotFound, codeNotFound)
		}
	}
	// A malformed okmsId is a 400 that names it.
	msgs := c.as("not-a-uuid").fail(400, codeInvalid, "GET", "/secret/mine", "")
	if !strings.Contains(strings.Join(msgs, " "), "okmsId") {
		t.Errorf("malformed okmsId: %q", msgs)
	}
	// Each side still sees its own, unchanged.
	if m := object(t, c.ok(200, "GET", "/secret/mine?includeData=true", "")); field(m, "version.data.k") != "v" {
		t.Errorf("mine: %v", m)
	}
	if a := array(t, oc.ok(200, "GET", "/secret", "")); len(a) != 1 || field(a[0], "path") != "theirs" {
		t.Errorf("theirs: %v", a)
	}

	// A principal of the same organization without a policy does not see
	// the project; with a policy that does not grant the operation, it is
	// known but not allowed.
	weak := seedPrincipal(t, n, false, false)
	wc := newClient(t, n, weak.token, n.Creds.ProjectID)
	wc.fail(404, codeNotFound, "GET", "/secret/mine?includeData=true", "")
	wc.fail(404, codeNotFound, "POST", "/secret", `{"path":"new","version":{"data":{}}}`)
	admin := callerContext(t, n)
	pr, err := n.Engine.CreatePrincipal(admin, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreatePolicy(admin, coffer.PolicyCreate{PrincipalID: pr.ID, ProjectID: n.Creds.ProjectID,
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerReadOnly}}); err != nil {
		t.Fatal(err)
	}
	k, err := n.Engine.CreateAPIKey(admin, coffer.APIKeyCreate{PrincipalID: pr.ID, DefaultProjectID: n.Creds.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	rc := newClient(t, n, k.SecretKey, n.Creds.ProjectID)
	rc.ok(200, "GET", "/secret/mine", "")
	rc.fail(403, codeForbidden, "GET", "/secret/mine?includeData=true", "")
	rc.fail(403, codeForbidden, "POST", "/secret", `{"path":"new","version":{"data":{}}}`)
}
