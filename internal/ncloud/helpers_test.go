package ncloud_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// These tests speak NAVER's signed API to a real node with a client
// written from the spec's algorithm (§2): NAVER's SDKs are not reachable.

// sign returns the signature v2 of a request: the standard base64 of
// HMAC-SHA256, keyed with the secret key, over "METHOD URI\nTIMESTAMP\nACCESSKEY".
func sign(secretKey, method, uri, timestamp, accessKey string) string {
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write([]byte(method + " " + uri + "\n" + timestamp + "\n" + accessKey))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// start returns a node on a fixed clock and a client for its admin key.
func start(t *testing.T, opts ...nodetest.Option) (*nodetest.Node, *client, *nodetest.Clock) {
	t.Helper()
	clock := nodetest.NewClock()
	n := nodetest.Start(t, append([]nodetest.Option{nodetest.WithNow(clock.Now)}, opts...)...)
	return n, newClient(t, n, clock, n.Creds.AccessKey, n.Creds.SecretKey), clock
}

// client signs requests to a node with one API key.
type client struct {
	t         *testing.T
	node      *nodetest.Node
	clock     *nodetest.Clock
	accessKey string
	secretKey string
	// prefix goes before every path: "" or "/secretmanager".
	prefix string
	http   *http.Client
}

func newClient(t *testing.T, n *nodetest.Node, clock *nodetest.Clock, accessKey, secretKey string) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, node: n, clock: clock, accessKey: accessKey, secretKey: secretKey, http: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// regional returns the client of a regional host, whose paths start with
// /secretmanager.
func (c *client) regional() *client {
	cc := *c
	cc.prefix = "/secretmanager"
	return &cc
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// signing changes how one request is signed, for the tests of bad
// signatures.
type signing struct {
	// at is the timestamp; the node's clock when zero.
	at time.Time
	// method and uri are what is signed instead of the request's.
	method, uri string
	// secretKey signs instead of the client's.
	secretKey string
	// header edits the request's headers after signing: name, value
	// pairs, a value "-" drops the header.
	header []string
}

// do sends a signed request; p is the path below the host (with the query).
func (c *client) do(method, p, body string) response {
	c.t.Helper()
	return c.doSigned(method, p, body, signing{})
}

func (c *client) doSigned(method, p, body string, s signing) response {
	c.t.Helper()
	uri := c.prefix + p
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.node.URL+uri, rd)
	if err != nil {
		c.t.Fatalf("new request %s %s: %v", method, p, err)
	}
	at := s.at
	if at.IsZero() {
		at = c.clock.Now()
	}
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	signMethod, signURI, key := method, uri, c.secretKey
	if s.method != "" {
		signMethod = s.method
	}
	if s.uri != "" {
		signURI = s.uri
	}
	if s.secretKey != "" {
		key = s.secretKey
	}
	req.Header.Set("x-ncp-apigw-timestamp", ts)
	req.Header.Set("x-ncp-iam-access-key", c.accessKey)
	req.Header.Set("x-ncp-apigw-signature-v2", sign(key, signMethod, signURI, ts, c.accessKey))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(s.header); i += 2 {
		if s.header[i+1] == "-" {
			req.Header.Del(s.header[i])
		} else {
			req.Header.Set(s.header[i], s.header[i+1])
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

// ok sends a request that must succeed, and decodes the envelope's data
// into out (when not nil). It returns the raw data.
func (c *client) ok(method, p, body string, out any) json.RawMessage {
	c.t.Helper()
	r := c.do(method, p, body)
	if r.Status != http.StatusOK {
		c.t.Fatalf("%s %s: status %d, want 200: %s", method, p, r.Status, r.Body)
	}
	checkContentType(c.t, r)
	var env struct {
		Code *string         `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Code == nil || *env.Code != "SUCCESS" || env.Data == nil {
		c.t.Fatalf("%s %s: not a success envelope (%v): %s", method, p, err, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			c.t.Fatalf("%s %s: decode data: %v: %s", method, p, err, env.Data)
		}
	}
	return env.Data
}

// action sends a request that must succeed with data null.
func (c *client) action(method, p, body string) {
	c.t.Helper()
	if d := c.ok(method, p, body, nil); string(d) != "null" {
		c.t.Errorf("%s %s: data %s, want null", method, p, d)
	}
}

// fail sends a request that must fail with status and errorCode in
// NAVER's error envelope; it returns the details.
func (c *client) fail(status int, code, method, p, body string) string {
	c.t.Helper()
	return checkError(c.t, method+" "+p, c.do(method, p, body), status, code)
}

func checkContentType(t *testing.T, r response) {
	t.Helper()
	if ct := r.Header.Values("Content-Type"); !slices.Equal(ct, []string{"application/json"}) {
		t.Errorf("Content-Type %q, want exactly application/json", ct)
	}
}

// checkError checks an answer in NAVER's error envelope.
func checkError(t *testing.T, what string, r response, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
		return ""
	}
	checkContentType(t, r)
	var e struct {
		Error *struct {
			ErrorCode *string `json:"errorCode"`
			Message   *string `json:"message"`
			Details   *string `json:"details"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == nil || e.Error.ErrorCode == nil || e.Error.Message == nil || e.Error.Details == nil {
		t.Errorf("%s: not an error envelope (%v): %s", what, err, r.Body)
		return ""
	}
	if *e.Error.ErrorCode != code {
		t.Errorf("%s: errorCode %s, want %s: %s", what, *e.Error.ErrorCode, code, r.Body)
	}
	if *e.Error.Message == "" {
		t.Errorf("%s: empty message", what)
	}
	return *e.Error.Details
}

// state returns what the store holds of secrets and versions, to check
// that a refused request changed nothing.
func state(t *testing.T, n *nodetest.Node) map[string][]byte {
	t.Helper()
	d := n.SQL(t).Dump(t)
	return map[string][]byte{"secrets": d["secrets"], "versions": d["versions"], "secret_tags": d["secret_tags"]}
}

// unchanged fails the test when the store's secrets changed since before.
func unchanged(t *testing.T, n *nodetest.Node, before map[string][]byte, what string) {
	t.Helper()
	if diff := cmp.Diff(before, state(t, n)); diff != "" {
		t.Errorf("%s changed the store (-before +after):\n%s", what, diff)
	}
}

// adminContext returns a context with the node's admin as the caller, to
// set up through the engine what the NAVER API has no operation for.
func adminContext(t *testing.T, n *nodetest.Node) context.Context {
	t.Helper()
	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return coffer.NewContextWithCaller(context.Background(), c)
}
