package node

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CAFile is where a node writes the CA certificate that signs client
// certificates and its own TLS certificate, for clients to trust.
const CAFile = "ca.crt"

// serverCertTTL is the lifetime of a TLS certificate the node issues itself;
// it issues a new one at every start.
const serverCertTTL = 90 * 24 * time.Hour

// tlsConfig returns the configuration of the TLS listener, or nil when
// there is none. Client certificates are optional at the TLS layer (a
// client may still send a token); when one is sent it must verify against
// coffer's CA, and the engine then checks that it is recorded, unrevoked
// and unexpired.
func (n *Node) tlsConfig(cfg Config) (*tls.Config, error) {
	if cfg.TLSListen == "" {
		return nil, nil
	}
	pool, err := n.Engine.ClientCAs()
	if err != nil {
		return nil, err
	}
	caPEM, err := n.Engine.CACertificatePEM()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, CAFile), caPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write CA certificate: %w", err)
	}
	var cert tls.Certificate
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		if cert, err = tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
	} else {
		hosts := []string{"localhost", "127.0.0.1", "::1"}
		if h, _, err := net.SplitHostPort(cfg.TLSListen); err == nil && h != "" && h != "localhost" && h != "127.0.0.1" && h != "::1" {
			hosts = append(hosts, h)
		}
		issued, err := n.Engine.IssueServerCertificate(hosts, serverCertTTL)
		if err != nil {
			return nil, fmt.Errorf("issue TLS certificate: %w", err)
		}
		defer clear(issued.KeyPEM)
		if cert, err = tls.X509KeyPair(issued.CertPEM, issued.KeyPEM); err != nil {
			return nil, err
		}
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
	}, nil
}
