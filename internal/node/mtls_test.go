package node_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/ca"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// tlsNode starts a node that listens with TLS, and returns it with an admin
// context, a pool that trusts its CA, and its data directory.
func tlsNode(t *testing.T, opts ...func(*node.Config)) (*node.Node, context.Context, *x509.CertPool, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := node.Config{DataDir: dir, RootKey: nodetest.NewRootKey(), Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	n, err := node.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Credentials.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := n.Engine.CACertificatePEM()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return n, coffer.NewContextWithCaller(context.Background(), c), pool, dir
}

// client returns an HTTPS client that trusts pool and presents cert.
func client(pool *x509.CertPool, cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

func get(t *testing.T, c *http.Client, url string, header ...string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestMutualTLS(t *testing.T) {
	n, ctx, pool, dir := tlsNode(t)
	project := n.Credentials.ProjectID
	base := "https://" + n.Server.TLSAddr()
	s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: project, Path: "/app", Name: "db", Type: coffer.TypeKeyValue})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload(`{"password":"hunter2"}`)}); err != nil {
		t.Fatal(err)
	}
	issued, err := n.Engine.IssueClientCertificate(ctx, "", project, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(issued.CertPEM, issued.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	withCert := client(pool, &pair)

	// The certificate authenticates on every dialect, with no token.
	for _, tc := range []struct{ url, want string }{
		{base + "/secret-manager/v1beta1/regions/fr-par/secrets/" + s.ID + "/versions/latest/access", `"data":"eyJwYXNzd29yZCI6Imh1bnRlcjIifQ=="`},
		{base + "/api/" + project + "/v2/secret/app%2Fdb?includeData=true", `"password":"hunter2"`},
		{base + "/v1/secret/data/app/db", `"password":"hunter2"`},
	} {
		code, body, err := get(t, withCert, tc.url)
		if err != nil || code != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s with a certificate: %d %v %s", tc.url, code, err, body)
		}
	}

	// A certificate is bound to its project: another project of the same
	// organization does not exist for it.
	other := uuid.NewString()
	sqlDB := nodetest.OpenSQL(t, dir, "")
	if _, err := sqlDB.Exec(`INSERT INTO projects (id, organization_id, name, max_versions, cas_required, version_ttl, created_at, updated_at) VALUES (?, ?, 'other', 10, 0, 0, 0, 0)`, other, n.Credentials.OrganizationID); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, withCert, base+"/api/"+other+"/v2/secret"); code != http.StatusNotFound {
		t.Errorf("another project with the certificate: %d %s, want 404", code, body)
	}
	if code, body, _ := get(t, client(pool, nil), base+"/api/"+other+"/v2/secret", "Authorization", "Bearer "+n.Credentials.SecretKey); code != http.StatusOK {
		t.Errorf("the admin token still reaches the other project: %d %s", code, body)
	}

	// Without a certificate, the token still works on the TLS listener;
	// without either, each dialect answers 401 in its own format.
	noCert := client(pool, nil)
	if code, _, _ := get(t, noCert, base+"/secret-manager/v1beta1/regions/fr-par/secrets", "X-Auth-Token", n.Credentials.SecretKey); code != http.StatusOK {
		t.Errorf("token over TLS: %d", code)
	}
	if code, body, _ := get(t, noCert, base+"/secret-manager/v1beta1/regions/fr-par/secrets"); code != http.StatusUnauthorized || !strings.Contains(body, "denied_authentication") {
		t.Errorf("no credential: %d %s", code, body)
	}

	// A revoked certificate stops working at once.
	if err := n.Engine.RevokeCertificate(ctx, issued.Serial); err != nil {
		t.Fatal(err)
	}
	withCert.CloseIdleConnections()
	code, body, _ := get(t, withCert, base+"/api/"+project+"/v2/secret")
	if code != http.StatusUnauthorized {
		t.Errorf("revoked certificate: %d %s, want 401", code, body)
	}
	var okmsErr struct {
		ErrorCode int `json:"error_code"`
	}
	if json.Unmarshal([]byte(body), &okmsErr) != nil || okmsErr.ErrorCode == 0 {
		t.Errorf("revoked certificate: body %s is not the OKMS error format", body)
	}
}

func TestForeignAndExpiredCertificatesAreRefused(t *testing.T) {
	n, ctx, pool, _ := tlsNode(t)
	base := "https://" + n.Server.TLSAddr()
	// A certificate of another CA, with the right names.
	foreign, _, _, err := ca.New(time.Now(), "not coffer")
	if err != nil {
		t.Fatal(err)
	}
	f, err := foreign.IssueClient(time.Now(), uuid.NewString(), n.Credentials.ProjectID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := tls.X509KeyPair(f.CertPEM, f.KeyPEM)
	forced := client(pool, nil)
	// Send it even though the server asks for certificates of its own CA
	// (Go's client would otherwise withhold it).
	forced.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &pair, nil
	}
	if code, _, err := get(t, forced, base+"/api/"+n.Credentials.ProjectID+"/v2/secret"); err == nil {
		t.Errorf("a certificate of another CA was accepted: %d", code)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a certificate of another CA: %v, want a TLS certificate error", err)
	}
	// An expired certificate of coffer's CA: issue one, then let it expire
	// by asking the engine for a short one in the past.
	issued, err := n.Engine.IssueClientCertificate(ctx, "", n.Credentials.ProjectID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := ca.ParseCertificatePEM(issued.CertPEM)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: time.Now().Add(2 * time.Minute), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("a certificate verified after its expiry")
	}
	if _, err := n.Engine.AuthenticateCertificate(context.Background(), cert); err != nil {
		t.Errorf("a fresh certificate: %v", err)
	}
	// An unrecorded certificate of coffer's CA (its serial unknown) fails.
	_, err = n.Engine.IssueClientCertificate(ctx, uuid.NewString(), n.Credentials.ProjectID, time.Hour)
	if coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("certificate for an unknown principal: %v", err)
	}
}

// TestExpiredCertificateFailsTheHandshake issues a certificate from a node
// whose clock runs two hours late, so that it has expired by the time it is
// presented: the TLS handshake refuses it.
func TestExpiredCertificateFailsTheHandshake(t *testing.T) {
	late := func() time.Time { return time.Now().Add(-2 * time.Hour) }
	n, ctx, pool, _ := tlsNode(t, func(c *node.Config) { c.Now = late })
	issued, err := n.Engine.IssueClientCertificate(ctx, "", n.Credentials.ProjectID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := tls.X509KeyPair(issued.CertPEM, issued.KeyPEM)
	c := client(pool, &pair)
	code, _, err := get(t, c, "https://"+n.Server.TLSAddr()+"/api/"+n.Credentials.ProjectID+"/v2/secret")
	if err == nil {
		t.Fatalf("an expired certificate was accepted: %d", code)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("expired certificate: %v, want a TLS certificate error", err)
	}
}
