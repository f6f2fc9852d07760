package main

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/ca"
)

func TestCert(t *testing.T) {
	c, n := newCLI(t)
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key"), filepath.Join(dir, "ca.crt")
	out := c.ok("cert", "issue", "--ttl", "24h", "--cert", certFile, "--key", keyFile, "--ca", caFile)
	serial := fields(t, out)["serial"]
	if serial == "" {
		t.Fatalf("no serial in %q", out)
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	certPEM, _ := os.ReadFile(certFile)
	cert, err := ca.ParseCertificatePEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := c.ok("cert", "ca")
	if file, _ := os.ReadFile(caFile); string(file) != caPEM {
		t.Error("--ca and coffer cert ca differ")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("issued certificate does not verify: %v", err)
	}
	id, err := ca.IdentityOf(cert)
	if err != nil || id.ProjectID != n.Creds.ProjectID || id.Serial != serial {
		t.Errorf("identity %+v %v", id, err)
	}
	if _, err := n.Engine.AuthenticateCertificate(context.Background(), cert); err != nil {
		t.Errorf("before revocation: %v", err)
	}
	// Files are never overwritten.
	errOut := c.fail(1, "cert", "issue", "--cert", certFile, "--key", filepath.Join(dir, "other.key"))
	if !strings.Contains(errOut, "exists") {
		t.Errorf("overwrite: %q", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.key")); err == nil {
		t.Error("a refused issue left a key file behind")
	}
	c.ok("cert", "revoke", serial)
	if _, err := n.Engine.AuthenticateCertificate(context.Background(), cert); err == nil {
		t.Error("a revoked certificate still authenticates")
	}
	c.fail(1, "cert", "revoke", "00ff")
	c.fail(2, "cert", "revoke")
	c.fail(1, "cert", "issue", "--project", "not-a-uuid", "--cert", filepath.Join(dir, "x.crt"), "--key", filepath.Join(dir, "x.key"))
}
