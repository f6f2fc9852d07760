package okms_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
)

// These tests speak plain HTTP to a real node, as okms-sdk-go and the okms
// CLI do (spec §1.1): the SDK is not on the Go module proxy, so the exact
// requests it sends are replayed instead.

// start returns a node on a fixed clock and a client for its project.
func start(t *testing.T, opts ...nodetest.Option) (*nodetest.Node, *client, *nodetest.Clock) {
	t.Helper()
	clock := nodetest.NewClock()
	n := nodetest.Start(t, append([]nodetest.Option{nodetest.WithNow(clock.Now)}, opts...)...)
	return n, newClient(t, n, n.Creds.SecretKey, n.Creds.ProjectID), clock
}

// client sends requests to one okmsId of a node with a bearer token.
type client struct {
	t      *testing.T
	node   *nodetest.Node
	token  string
	okmsID string
	http   *http.Client
}

func newClient(t *testing.T, n *nodetest.Node, token, okmsID string) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, node: n, token: token, okmsID: okmsID, http: &http.Client{
		Transport: tr,
		// A redirect is an answer of its own here.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// as returns a client for another okmsId, with the same token.
func (c *client) as(okmsID string) *client {
	cc := *c
	cc.okmsID = okmsID
	return &cc
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// url returns the URL of p: under /api/{okmsId}/v2 unless p starts with
// "//", which names a path from the node's root. p is sent as written:
// percent-encodings and dot segments reach the server unchanged.
func (c *client) url(p string) string {
	if rest, ok := strings.CutPrefix(p, "//"); ok {
		return c.node.URL + "/" + rest
	}
	return c.node.URL + "/api/" + c.okmsID + "/v2" + p
}

// do sends a request. A non-empty body is sent as application/json unless
// header says otherwise; header holds name, value pairs, a value "-" drops
// a header.
func (c *client) do(method, p, body string, header ...string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url(p), rd)
	if err != nil {
		c.t.Fatalf("new request %s %s: %v", method, p, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
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
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, p, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, p, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// ok sends a request that must answer status with a JSON body (or no body
// for 204), and returns the body.
func (c *client) ok(status int, method, p, body string, header ...string) []byte {
	c.t.Helper()
	r := c.do(method, p, body, header...)
	if r.Status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, p, r.Status, status, r.Body)
	}
	if status == http.StatusNoContent {
		if len(r.Body) != 0 {
			c.t.Errorf("%s %s: 204 with a body: %s", method, p, r.Body)
		}
		return nil
	}
	checkContentType(c.t, r)
	return r.Body
}

// fail sends a request that must fail with status and error_code, in the
// OKMS error format, and returns the error's messages.
func (c *client) fail(status int, code int32, method, p, body string, header ...string) []string {
	c.t.Helper()
	r := c.do(method, p, body, header...)
	return checkError(c.t, method+" "+p, r, status, code)
}

func checkContentType(t *testing.T, r response) {
	t.Helper()
	if ct := r.Header.Values("Content-Type"); !slices.Equal(ct, []string{"application/json"}) {
		t.Errorf("Content-Type %q, want exactly application/json", ct)
	}
}

// wireError is ErrorResponse.
type wireError struct {
	ErrorCode *int32   `json:"error_code"`
	ErrorID   *string  `json:"error_id"`
	Errors    []string `json:"errors"`
	RequestID *string  `json:"request_id"`
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkError checks an error answer: status, Content-Type, the four fields
// of ErrorResponse, the request id the server returned in X-Request-Id.
func checkError(t *testing.T, what string, r response, status int, code int32) []string {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
		return nil
	}
	checkContentType(t, r)
	if loc := r.Header.Get("Location"); loc != "" {
		t.Errorf("%s: redirects to %s", what, loc)
	}
	var e wireError
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Errorf("%s: body is not an ErrorResponse: %v: %s", what, err, r.Body)
		return nil
	}
	switch {
	case e.ErrorCode == nil || *e.ErrorCode != code:
		t.Errorf("%s: error_code %v, want %d: %s", what, deref(e.ErrorCode), code, r.Body)
	case e.ErrorID == nil || !uuidRE.MatchString(*e.ErrorID):
		t.Errorf("%s: error_id %v is not a UUID", what, deref(e.ErrorID))
	case e.RequestID == nil || *e.RequestID != r.Header.Get("X-Request-Id"):
		t.Errorf("%s: request_id %v, want the X-Request-Id %q", what, deref(e.RequestID), r.Header.Get("X-Request-Id"))
	case len(e.Errors) == 0 || slices.Contains(e.Errors, ""):
		t.Errorf("%s: errors %q: want messages", what, e.Errors)
	}
	return e.Errors
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// wantJSON compares a JSON answer with the JSON expected, as values.
func wantJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if diff := cmp.Diff(decode(t, []byte(want)), decode(t, got)); diff != "" {
		t.Errorf("%s: answer differs (-want +got):\n%s\ngot: %s", what, diff, got)
	}
}

// decode reads any JSON value, numbers as json.Number.
func decode(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return v
}

// object decodes a JSON object answer.
func object(t *testing.T, b []byte) map[string]any {
	t.Helper()
	m, ok := decode(t, b).(map[string]any)
	if !ok {
		t.Fatalf("answer is not a JSON object: %s", b)
	}
	return m
}

// array decodes a JSON array answer.
func array(t *testing.T, b []byte) []any {
	t.Helper()
	a, ok := decode(t, b).([]any)
	if !ok {
		t.Fatalf("answer is not a JSON array: %s", b)
	}
	return a
}

// field returns the value at a dotted path of a decoded JSON object.
func field(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str returns a JSON value as the text a venom assertion compares: numbers
// and booleans as written, strings as they are, absent as "".
func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// callerContext returns a context that acts as the node's admin, for
// engine calls that stand in for another dialect or an administrator.
func callerContext(t *testing.T, n *nodetest.Node) context.Context {
	t.Helper()
	ctx := context.Background()
	c, err := n.Engine.AuthenticateSecretKey(ctx, n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return coffer.NewContextWithCaller(ctx, c)
}

// principal is a credential seeded straight into a node's store.
type principal struct {
	token     string
	projectID string
}

// seedPrincipal creates, in the node's store, a principal with an API key:
// in a new organization with its own project when otherOrg is set, else in
// the node's organization. An administrator of coffer would do this through
// the admin API; the dialects have no call for it.
func seedPrincipal(t *testing.T, n *nodetest.Node, otherOrg, admin bool) principal {
	t.Helper()
	ctx := context.Background()
	var (
		st  storage.Store
		err error
	)
	if n.Store == "" {
		var db *sqlite.DB
		db, err = sqlite.Open(filepath.Join(n.DataDir, node.DatabaseFile))
		st = db
		if err == nil {
			defer db.Close()
		}
	} else {
		var db *postgres.DB
		db, err = postgres.Open(ctx, n.Store, postgres.Options{NoMigrate: true})
		st = db
		if err == nil {
			defer db.Close()
		}
	}
	if err != nil {
		t.Fatalf("open the node's store: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := principal{token: uuid.NewString(), projectID: n.Creds.ProjectID}
	orgID := n.Creds.OrganizationID
	err = st.Update(ctx, func(tx storage.Tx) error {
		if otherOrg {
			orgID = uuid.NewString()
			p.projectID = uuid.NewString()
			if err := tx.CreateOrganization(ctx, &coffer.Organization{ID: orgID, Name: "other", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.CreateProject(ctx, &coffer.Project{ID: p.projectID, OrganizationID: orgID, Name: "other",
				Settings: coffer.ProjectSettings{MaxVersions: coffer.DefaultMaxVersions}, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		pr := &coffer.Principal{ID: uuid.NewString(), OrganizationID: orgID, Kind: coffer.PrincipalApplication,
			Name: "seeded", Admin: admin, CreatedAt: now}
		if err := tx.CreatePrincipal(ctx, pr); err != nil {
			return err
		}
		h := sha256.Sum256([]byte(p.token))
		return tx.CreateAPIKey(ctx, &storage.APIKey{
			APIKey: coffer.APIKey{AccessKey: engine.NewAccessKey(),
				PrincipalID: pr.ID, OrganizationID: orgID, DefaultProjectID: p.projectID, CreatedAt: now},
			SecretHash: h[:],
			// Only signature schemes open the sealed secret; these tests
			// authenticate with the bearer token alone.
			SealedSecret: []byte("unused"),
		})
	})
	if err != nil {
		t.Fatalf("seed a principal: %v", err)
	}
	return p
}
