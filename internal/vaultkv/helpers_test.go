package vaultkv_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"
	bao "github.com/openbao/openbao/api/v2"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// env is a real node (engine, SQLite store, keyring) driven by a clock that
// moves only when a test advances it, with the official clients of Vault
// and OpenBao and a raw HTTP client, all as the node's admin.
type env struct {
	t     *testing.T
	n     *nodetest.Node
	clock *nodetest.Clock
	vault *vault.Client
	bao   *bao.Client
	http  *http.Client
	// ctx carries the admin as caller, for direct engine calls.
	ctx context.Context
}

func newEnv(t *testing.T, opts ...nodetest.Option) *env {
	t.Helper()
	clock := nodetest.NewClock()
	n := nodetest.Start(t, append([]nodetest.Option{nodetest.WithNow(clock.Now)}, opts...)...)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	e := &env{t: t, n: n, clock: clock, http: &http.Client{
		Transport: tr,
		// A redirect is an answer of its own here.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}

	vcfg := vault.DefaultConfig()
	vcfg.Address = n.URL
	vcfg.MaxRetries = 0
	vcfg.HttpClient = &http.Client{Transport: tr}
	vc, err := vault.NewClient(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(n.Creds.SecretKey)
	e.vault = vc

	bcfg := bao.DefaultConfig()
	bcfg.Address = n.URL
	bcfg.MaxRetries = 0
	bcfg.HttpClient = &http.Client{Transport: tr}
	bc, err := bao.NewClient(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	bc.SetToken(n.Creds.SecretKey)
	e.bao = bc

	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	e.ctx = coffer.NewContextWithCaller(context.Background(), c)
	return e
}

// response is an answer as it came over the wire.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a raw request to path (from the node's root, not escaped) with
// the admin's X-Vault-Token. header holds name, value pairs; a value "-"
// drops a header.
func (e *env) do(method, path, body string, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.n.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", e.n.Creds.SecretKey)
	req.Header.Set("X-Vault-Request", "true")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "-" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// ok sends a request that must answer status and returns its body.
func (e *env) ok(status int, method, path, body string, header ...string) []byte {
	e.t.Helper()
	r := e.do(method, path, body, header...)
	if r.Status != status {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, status, r.Body)
	}
	return r.Body
}

// wantErrors checks an error answer: its status and its exact Vault body.
func (e *env) wantErrors(r response, status int, msgs ...string) {
	e.t.Helper()
	if r.Status != status {
		e.t.Errorf("status %d, want %d; body %s", r.Status, status, r.Body)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("Content-Type %q", ct)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &body); err != nil {
		e.t.Errorf("error body %q: %v", r.Body, err)
		return
	}
	var got []string
	if err := json.Unmarshal(body["errors"], &got); err != nil || got == nil || len(body) != 1 {
		e.t.Errorf("error body %s: want exactly a non-null \"errors\" array", r.Body)
		return
	}
	if msgs == nil {
		msgs = []string{}
	}
	if !equalStrings(got, msgs) {
		e.t.Errorf("errors %q, want %q", got, msgs)
	}
}

// wantErrorContaining checks a 400-like answer whose one message contains
// part.
func (e *env) wantErrorContaining(r response, status int, part string) {
	e.t.Helper()
	if r.Status != status {
		e.t.Errorf("status %d, want %d; body %s", r.Status, status, r.Body)
		return
	}
	var body struct{ Errors []string }
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Errors) != 1 || !strings.Contains(body.Errors[0], part) {
		e.t.Errorf("body %s: want one error containing %q", r.Body, part)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// envelopeOf decodes an enveloped answer.
func envelopeOf(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return env
}

// dataOf returns the "data" of an enveloped answer, decoded into v.
func dataOf(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(envelopeOf(t, b)["data"], v); err != nil {
		t.Fatalf("data of %s: %v", b, err)
	}
}

// Scaleway API access, to see the same secrets through another dialect.

const scwPrefix = "/secret-manager/v1beta1/regions/fr-par"

// scw sends a request to the Scaleway API.
func (e *env) scw(status int, method, path, body string) []byte {
	e.t.Helper()
	return e.ok(status, method, scwPrefix+path, body, "X-Vault-Token", "-", "X-Auth-Token", e.n.Creds.SecretKey, "Content-Type", "application/json")
}

// scwSecret is a secret as the Scaleway API shows it.
type scwSecret struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Path         string `json:"path"`
	Type         string `json:"type"`
	VersionCount int    `json:"version_count"`
}

// scwSecretAt returns the secret at a Vault path, through the Scaleway API.
func (e *env) scwSecretAt(vaultPath string) scwSecret {
	e.t.Helper()
	folder, name := coffer.SplitFullPath(vaultPath)
	var out struct {
		Secrets []scwSecret `json:"secrets"`
	}
	b := e.scw(200, "GET", "/secrets?project_id="+e.n.Creds.ProjectID+"&name="+name+"&path="+folder, "")
	if err := json.Unmarshal(b, &out); err != nil || len(out.Secrets) != 1 {
		e.t.Fatalf("secret %s through Scaleway: %s (%v)", vaultPath, b, err)
	}
	return out.Secrets[0]
}

// scwAccess returns the data of a revision of the secret at a Vault path,
// through the Scaleway API.
func (e *env) scwAccess(vaultPath, rev string) []byte {
	e.t.Helper()
	folder, name := coffer.SplitFullPath(vaultPath)
	b := e.scw(200, "GET", "/secrets-by-path/versions/"+rev+"/access?project_id="+e.n.Creds.ProjectID+"&secret_path="+folder+"&secret_name="+name, "")
	var out struct {
		Data []byte `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatal(err)
	}
	return out.Data
}

// scwVersionStatus returns the status of a revision through the Scaleway API.
func (e *env) scwVersionStatus(secretID, rev string) string {
	e.t.Helper()
	var out struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(e.scw(200, "GET", "/secrets/"+secretID+"/versions/"+rev, ""), &out); err != nil {
		e.t.Fatal(err)
	}
	return out.Status
}

// scwCreate creates a secret with one version through the Scaleway API.
func (e *env) scwCreate(vaultPath, typ string, data []byte) string {
	e.t.Helper()
	folder, name := coffer.SplitFullPath(vaultPath)
	body, _ := json.Marshal(map[string]string{"project_id": e.n.Creds.ProjectID, "name": name, "path": folder, "type": typ})
	var s scwSecret
	if err := json.Unmarshal(e.scw(200, "POST", "/secrets", string(body)), &s); err != nil {
		e.t.Fatal(err)
	}
	e.scw(200, "POST", "/secrets/"+s.ID+"/versions", `{"data":"`+base64.StdEncoding.EncodeToString(data)+`"}`)
	return s.ID
}

// scwCreateReadOnce creates, through the Scaleway API, a secret whose
// versions expire once accessed, with action, and one version of data.
func (e *env) scwCreateReadOnce(vaultPath, typ, action string, data []byte) string {
	e.t.Helper()
	folder, name := coffer.SplitFullPath(vaultPath)
	body, _ := json.Marshal(map[string]any{
		"project_id": e.n.Creds.ProjectID, "name": name, "path": folder, "type": typ,
		"ephemeral_policy": map[string]any{"expires_once_accessed": true, "action": action},
	})
	var s struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(e.scw(200, "POST", "/secrets", string(body)), &s); err != nil {
		e.t.Fatal(err)
	}
	e.scw(200, "POST", "/secrets/"+s.ID+"/versions", `{"data":"`+base64.StdEncoding.EncodeToString(data)+`"}`)
	return s.ID
}

// compactJSON returns b without insignificant white space.
func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return buf.String()
}
