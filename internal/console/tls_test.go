package console_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestCertificateLogin logs in with a client certificate on a TLS
// listener: the session cookie is Secure, and the session is limited to
// the certificate's project.
func TestCertificateLogin(t *testing.T) {
	n := nodetest.Start(t)
	ctx := admin(t, n)
	caPEM, err := n.Engine.CACertificatePEM()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	issued, err := n.Engine.IssueServerCertificate([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	scert, err := tls.X509KeyPair(issued.CertPEM, issued.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(n.Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{scert}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	other, err := n.Engine.CreateProject(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	cc, err := n.Engine.IssueClientCertificate(ctx, coffer.CallerFromContext(ctx).Principal.ID, n.Creds.ProjectID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ccert, err := tls.X509KeyPair(cc.CertPEM, cc.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{ccert}, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)

	b := newBrowser(t, n)
	b.base = srv.URL
	b.c.Transport = tr
	p := b.get("/ui/login")
	if !strings.Contains(p.body, "client certificate") {
		t.Errorf("the TLS login page does not offer the certificate:\n%s", p.body)
	}
	tok := find(t, loginToken, p.body)
	p = b.post("/ui/login", url.Values{"login_csrf": {tok}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("certificate login: %d\n%s", p.status, p.body)
	}
	var secure bool
	for _, line := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "coffer_session=") {
			secure = strings.Contains(line, "; Secure") && strings.Contains(line, "HttpOnly") && strings.Contains(line, "SameSite=Strict")
		}
	}
	if !secure {
		t.Errorf("session cookie on TLS: %v, want Secure, HttpOnly, SameSite=Strict", p.header.Values("Set-Cookie"))
	}
	home := b.get("/ui/")
	if home.status != http.StatusOK || !strings.Contains(home.body, n.Creds.ProjectID) || strings.Contains(home.body, other.ID) {
		t.Errorf("the certificate's session lists other projects than its own: %d\n%s", home.status, home.body)
	}
	if p := b.get("/ui/projects/" + other.ID + "/"); p.status != http.StatusNotFound {
		t.Errorf("another project through the certificate's session: %d", p.status)
	}
	if err := n.Engine.RevokeCertificate(ctx, cc.Serial); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/ui/"); p.status != http.StatusUnauthorized {
		t.Errorf("session of a revoked certificate: %d", p.status)
	}
}
