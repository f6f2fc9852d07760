package imco_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// These tests speak plain HTTP (and mutual TLS) to real nodes, as IMCO's
// cio CLI does: flat JSON bodies, bare JSON answers.

// client sends requests to a node's IMCO API.
type client struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client
}

// newClient returns a client of n with a bearer token.
func newClient(t *testing.T, n *nodetest.Node, token string) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: n.URL, token: token, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request; p is a path from the node's root.
func (c *client) do(method, p, body string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+p, rd)
	if err != nil {
		c.t.Fatalf("new request %s %s: %v", method, p, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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

// ok sends a request that must answer status, and decodes its JSON body
// into out (when not nil).
func (c *client) ok(status int, method, p, body string, out any) response {
	c.t.Helper()
	r := c.do(method, p, body)
	if r.Status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, p, r.Status, status, r.Body)
	}
	if out != nil {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			c.t.Fatalf("%s %s: Content-Type %q", method, p, ct)
		}
		if err := json.Unmarshal(r.Body, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, p, r.Body, err)
		}
	}
	return r
}

// errorBody is either of IMCO's error bodies.
type errorBody struct {
	Error  string              `json:"error"`
	Errors map[string][]string `json:"errors"`
}

// fail sends a request that must fail with status in one of IMCO's error
// bodies, and returns the body.
func (c *client) fail(status int, method, p, body string) errorBody {
	c.t.Helper()
	r := c.do(method, p, body)
	if r.Status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, p, r.Status, status, r.Body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		c.t.Fatalf("%s %s: error body %q is not JSON: %v", method, p, r.Body, err)
	}
	if len(raw) != 1 || (raw["error"] == nil && raw["errors"] == nil) {
		c.t.Fatalf("%s %s: error body %s is not {error} nor {errors}", method, p, r.Body)
	}
	var e errorBody
	if err := json.Unmarshal(r.Body, &e); err != nil {
		c.t.Fatalf("%s %s: error body %s: %v", method, p, r.Body, err)
	}
	if e.Error == "" && len(e.Errors) == 0 {
		c.t.Fatalf("%s %s: empty error body %s", method, p, r.Body)
	}
	return e
}

// Wire shapes, as a client reads them.
type keyVault struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	ProjectID    string   `json:"project_id"`
	Path         string   `json:"path"`
	State        string   `json:"state"`
	RemoteID     string   `json:"remote_id"`
	Brownfield   bool     `json:"brownfield"`
	LabelIDs     []string `json:"label_ids"`
	TargetKind   string   `json:"target_kind"`
	ResourceType string   `json:"resource_type"`
}

type secret struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	KeyVaultID      string   `json:"key_vault_id"`
	RemoteID        string   `json:"remote_id"`
	State           string   `json:"state"`
	Brownfield      bool     `json:"brownfield"`
	DesiredRemoteID string   `json:"desired_remote_id"`
	LabelIDs        []string `json:"label_ids"`
	ErrorMessage    string   `json:"error_message"`
	ResourceType    string   `json:"resource_type"`
}

type version struct {
	ID           string `json:"id"`
	SecretID     string `json:"secret_id"`
	KeyVaultID   string `json:"key_vault_id"`
	RemoteID     string `json:"remote_id"`
	Last         bool   `json:"last"`
	ResourceType string `json:"resource_type"`
}

type label struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ResourceType string `json:"resource_type"`
}

// jsonBody encodes v.
func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// adminContext returns a context with the node's admin caller.
func adminContext(t *testing.T, n *nodetest.Node) context.Context {
	t.Helper()
	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return coffer.NewContextWithCaller(context.Background(), c)
}

// tlsClient serves n over TLS with client certificates verified against
// its CA, and returns a client that presents a certificate issued to the
// node's admin principal for project.
func tlsClient(t *testing.T, n *nodetest.Node, project string) *client {
	t.Helper()
	url, caPEM := serveTLS(t, n)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	pem := clientCertificate(t, n, project)
	ccert, err := tls.X509KeyPair(pem, pem)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{ccert}, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: url, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// serveTLS serves n over TLS, verifying the client certificates its CA
// issued, and returns the server's URL and the CA's certificate, PEM.
func serveTLS(t *testing.T, n *nodetest.Node) (string, []byte) {
	t.Helper()
	caPEM, err := n.Engine.CACertificatePEM()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	srv := httptest.NewUnstartedServer(n.Handler())
	issued, err := n.Engine.IssueServerCertificate([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	scert, err := tls.X509KeyPair(issued.CertPEM, issued.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{scert}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, caPEM
}

// clientCertificate issues a client certificate of the node's admin
// principal for project: the certificate and its key, PEM, one after the
// other.
func clientCertificate(t *testing.T, n *nodetest.Node, project string) []byte {
	t.Helper()
	ctx := adminContext(t, n)
	cc, err := n.Engine.IssueClientCertificate(ctx, coffer.CallerFromContext(ctx).Principal.ID, project, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte{}, cc.CertPEM...), cc.KeyPEM...)
}
