// Package target holds the clients of the secret managers a key vault
// deploys to: a HashiCorp Vault KV v2 mount (through Vault's own client,
// github.com/hashicorp/vault/api), a Scaleway-compatible Secret Manager
// (through github.com/scaleway/scaleway-sdk-go) and an OVHcloud OKMS
// domain's Secret Manager (API v2) and a NAVER Cloud Secret Manager
// (signature v2 requests), the last two through small clients written from
// their specs. A coffer node is all four.
//
// A client never logs, and its errors never hold, the target's credential:
// the SDKs send it in a header, never in a URL.
package target

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
)

// Timeout bounds each call to a target.
const Timeout = 30 * time.Second

// Clients opens target clients; it implements engine.Targets.
type Clients struct {
	// HTTP is the transport of every client; nil for a default one.
	HTTP *http.Client
}

var _ engine.Targets = (*Clients)(nil)

// Client returns a client for t.
func (c *Clients) Client(t coffer.Target) (engine.TargetClient, error) {
	hc, err := c.httpClient(t)
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case coffer.TargetVault:
		return newVault(t, hc)
	case coffer.TargetScaleway:
		return newScaleway(t, hc)
	case coffer.TargetOKMS:
		return newOKMS(t, hc)
	case coffer.TargetNCloud:
		return newNCloud(t, hc)
	}
	return nil, fmt.Errorf("target kind %q has no client", t.Kind)
}

// httpClient returns the HTTP client of t: c.HTTP, else one that trusts
// t's authority when it names one and presents t's access certificate when
// its credential is one.
func (c *Clients) httpClient(t coffer.Target) (*http.Client, error) {
	withCert := t.UsesCertificate()
	if c.HTTP != nil {
		return c.HTTP, nil
	}
	hc := &http.Client{
		Timeout: Timeout,
		// A redirect would carry the credential to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if t.CACertificate == "" && !withCert {
		return hc, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CACertificate != "" {
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM([]byte(t.CACertificate)) {
			return nil, fmt.Errorf("the target's CA certificate holds no PEM certificate")
		}
	}
	if withCert {
		cert, err := tls.X509KeyPair(t.Credential, t.Credential)
		if err != nil {
			// The error names neither the key nor the certificate's bytes.
			return nil, fmt.Errorf("the target's access certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	// A client is opened for each pass over a vault: its connections
	// are not kept for a next pass that opens its own.
	tr.DisableKeepAlives = true
	hc.Transport = tr
	return hc, nil
}
