// Package ca is coffer's certificate authority for mutual TLS. It issues the
// client certificates that authenticate principals on every dialect, and the
// server certificate of the TLS listener when none is given.
//
// A client certificate names its principal in a URI SAN
// (urn:coffer:principal:<id>) and its project in the otherName SAN that
// OVHcloud's okms CLI reads (UPN OID 1.3.6.1.4.1.311.20.2.3, value
// "okms.domain:<project id>"), so that the CLI needs no --okmsId. Whether a
// certificate is still valid (not revoked) is the engine's decision, made
// from the serial number this package reports; this package only builds and
// parses certificates.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
	"time"
)

// Object identifiers of the subject alternative name extension and of the
// UPN otherName the okms CLI reads.
var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidUPN            = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// Prefixes of the names a client certificate carries.
const (
	principalURIPrefix = "urn:coffer:principal:"
	domainPrefix       = "okms.domain:"
)

// CA signs certificates.
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// New creates a CA with a fresh P-256 key, valid for ten years from now. It
// returns the CA and its certificate and key in PEM.
func New(now time.Time, name string) (*CA, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"coffer"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return &CA{cert: cert, key: key}, encodeCert(der), keyPEM, nil
}

// Load returns the CA of a PEM certificate and key.
func Load(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("ca: the certificate is not a CA certificate")
	}
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return nil, errors.New("ca: the key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("ca: the key cannot sign")
	}
	if !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return nil, errors.New("ca: the key does not match the certificate")
	}
	return &CA{cert: cert, key: signer}, nil
}

// Certificate returns the CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// CertPEM returns the CA certificate in PEM.
func (c *CA) CertPEM() []byte { return encodeCert(c.cert.Raw) }

// Pool returns a pool holding only this CA, to verify client certificates.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// Issued is a certificate and its private key, in PEM.
type Issued struct {
	Serial   string
	NotAfter time.Time
	CertPEM  []byte
	KeyPEM   []byte
}

// IssueClient issues a client certificate for a principal in a project,
// valid for ttl from now.
func (c *CA) IssueClient(now time.Time, principalID, projectID string, ttl time.Duration) (*Issued, error) {
	if principalID == "" || projectID == "" || ttl <= 0 {
		return nil, errors.New("ca: a client certificate needs a principal, a project and a positive lifetime")
	}
	uri, err := url.Parse(principalURIPrefix + principalID)
	if err != nil {
		return nil, fmt.Errorf("ca: principal id: %w", err)
	}
	san, err := clientSAN(uri, domainPrefix+projectID)
	if err != nil {
		return nil, err
	}
	return c.issue(now, ttl, &x509.Certificate{
		Subject:         pkix.Name{CommonName: principalID, Organization: []string{"coffer"}, OrganizationalUnit: []string{projectID}},
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{{Id: oidSubjectAltName, Value: san}},
	})
}

// IssueServer issues a server certificate for the given host names and IP
// addresses, valid for ttl from now.
func (c *CA) IssueServer(now time.Time, hosts []string, ttl time.Duration) (*Issued, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "coffer", Organization: []string{"coffer"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return c.issue(now, ttl, tmpl)
}

func (c *CA) issue(now time.Time, ttl time.Duration, tmpl *x509.Certificate) (*Issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-time.Minute)
	tmpl.NotAfter = now.Add(ttl)
	if tmpl.NotAfter.After(c.cert.NotAfter) {
		tmpl.NotAfter = c.cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return nil, fmt.Errorf("ca: sign: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &Issued{Serial: SerialString(serial), NotAfter: tmpl.NotAfter.UTC(), CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

// Identity is what a client certificate says of its holder.
type Identity struct {
	Serial      string
	PrincipalID string
	ProjectID   string
	NotAfter    time.Time
}

// IdentityOf reads the identity of a client certificate this CA issued. The
// caller must have verified the certificate's chain first.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	id := Identity{Serial: SerialString(cert.SerialNumber), NotAfter: cert.NotAfter.UTC()}
	for _, u := range cert.URIs {
		if p, ok := strings.CutPrefix(u.String(), principalURIPrefix); ok {
			id.PrincipalID = p
		}
	}
	domain, err := upn(cert)
	if err != nil {
		return Identity{}, err
	}
	id.ProjectID, _ = strings.CutPrefix(domain, domainPrefix)
	if id.PrincipalID == "" || id.ProjectID == "" || id.ProjectID == domain {
		return Identity{}, errors.New("ca: the certificate names no coffer principal and project")
	}
	return id, nil
}

// SerialString renders a serial number as lower-case hex.
func SerialString(n *big.Int) string { return hex.EncodeToString(n.Bytes()) }

// ParseCertificatePEM parses the first certificate of a PEM document.
func ParseCertificatePEM(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no certificate in PEM")
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

// clientSAN encodes a subjectAltName with a URI and a UPN otherName; the
// standard library writes the former but not the latter.
func clientSAN(uri *url.URL, upnValue string) ([]byte, error) {
	value, err := asn1.MarshalWithParams(upnValue, "utf8")
	if err != nil {
		return nil, err
	}
	oid, err := asn1.Marshal(oidUPN)
	if err != nil {
		return nil, err
	}
	explicit, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: value})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal([]asn1.RawValue{
		{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, explicit...)},
		{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(uri.String())},
	})
}

// upn returns the value of the certificate's UPN otherName, or "".
func upn(cert *x509.Certificate) (string, error) {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		var names []asn1.RawValue
		if rest, err := asn1.Unmarshal(ext.Value, &names); err != nil || len(rest) != 0 {
			return "", errors.New("ca: malformed subjectAltName")
		}
		for _, n := range names {
			if n.Class != asn1.ClassContextSpecific || n.Tag != 0 {
				continue
			}
			var oid asn1.ObjectIdentifier
			rest, err := asn1.Unmarshal(n.Bytes, &oid)
			if err != nil || !oid.Equal(oidUPN) {
				continue
			}
			var wrapped asn1.RawValue
			if _, err := asn1.Unmarshal(rest, &wrapped); err != nil || wrapped.Class != asn1.ClassContextSpecific || wrapped.Tag != 0 {
				return "", errors.New("ca: malformed otherName")
			}
			var s string
			if _, err := asn1.UnmarshalWithParams(wrapped.Bytes, &s, "utf8"); err != nil {
				return "", errors.New("ca: malformed otherName value")
			}
			return s, nil
		}
	}
	return "", nil
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}
