package ca

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const (
	principal = "5b0f3c9e-2a7d-4c1b-9f0e-1d2c3b4a5f60"
	project   = "0b9a8a43-4b43-4f0e-9d0e-3b1f5f0d6a11"
)

func newCA(t *testing.T) (*CA, []byte, []byte) {
	t.Helper()
	c, certPEM, keyPEM, err := New(now, "coffer test CA")
	if err != nil {
		t.Fatal(err)
	}
	return c, certPEM, keyPEM
}

func verify(c *CA, certPEM []byte, at time.Time) (*x509.Certificate, error) {
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, err
	}
	_, err = cert.Verify(x509.VerifyOptions{Roots: c.Pool(), CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return cert, err
}

func TestIssueClientCarriesPrincipalAndOKMSDomain(t *testing.T) {
	c, _, _ := newCA(t)
	is, err := c.IssueClient(now, principal, project, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := verify(c, is.CertPEM, now.Add(time.Hour))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	id, err := IdentityOf(cert)
	if err != nil {
		t.Fatal(err)
	}
	if id.PrincipalID != principal || id.ProjectID != project || id.Serial != is.Serial || !id.NotAfter.Equal(now.Add(24*time.Hour)) {
		t.Errorf("identity %+v, issued %s", id, is.Serial)
	}
	// The otherName is what the okms CLI reads.
	if v, err := upn(cert); err != nil || v != "okms.domain:"+project {
		t.Errorf("UPN otherName %q, %v", v, err)
	}
	// The pair loads as a TLS client certificate.
	if _, err := tls.X509KeyPair(is.CertPEM, is.KeyPEM); err != nil {
		t.Errorf("key pair: %v", err)
	}
}

func TestVerificationFails(t *testing.T) {
	c, _, _ := newCA(t)
	other, _, _ := newCA(t)
	is, err := c.IssueClient(now, principal, project, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify(c, is.CertPEM, now.Add(2*time.Hour)); err == nil {
		t.Error("an expired certificate verified")
	}
	if _, err := verify(other, is.CertPEM, now); err == nil {
		t.Error("a certificate of another CA verified")
	}
	srv, err := c.IssueServer(now, []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify(c, srv.CertPEM, now); err == nil {
		t.Error("a server certificate verified as a client certificate")
	}
	cert, _ := ParseCertificatePEM(srv.CertPEM)
	if _, err := IdentityOf(cert); err == nil {
		t.Error("a server certificate gave a client identity")
	}
	if len(cert.IPAddresses) != 1 || len(cert.DNSNames) != 1 || cert.DNSNames[0] != "localhost" {
		t.Errorf("server names %v %v", cert.IPAddresses, cert.DNSNames)
	}
}

func TestLoad(t *testing.T) {
	c, certPEM, keyPEM := newCA(t)
	l, err := Load(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	is, err := l.IssueClient(now, principal, project, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify(c, is.CertPEM, now); err != nil {
		t.Errorf("a certificate of the loaded CA does not verify: %v", err)
	}
	_, _, otherKey := newCA(t)
	if _, err := Load(certPEM, otherKey); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key: %v", err)
	}
	if _, err := Load(is.CertPEM, is.KeyPEM); err == nil {
		t.Error("a client certificate loaded as a CA")
	}
	if _, err := Load([]byte("junk"), keyPEM); err == nil {
		t.Error("junk loaded")
	}
}

func TestIssueClientRefusesMissingNames(t *testing.T) {
	c, _, _ := newCA(t)
	for _, tc := range []struct{ p, proj string }{{"", project}, {principal, ""}} {
		if _, err := c.IssueClient(now, tc.p, tc.proj, time.Hour); err == nil {
			t.Errorf("issued for %q %q", tc.p, tc.proj)
		}
	}
}

func FuzzIdentityOf(f *testing.F) {
	c, _, _, err := New(now, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	is, err := c.IssueClient(now, principal, project, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	cert, _ := ParseCertificatePEM(is.CertPEM)
	f.Add(cert.Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		_, _ = IdentityOf(cert) // must not panic
	})
}
