package coffer

import (
	"context"
	"crypto/x509"
	"time"
)

// PrincipalKind says what a principal is.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalUser        PrincipalKind = "user"
	PrincipalApplication PrincipalKind = "application"
)

// Principal is who calls: a user or an application of an organization.
type Principal struct {
	ID             string
	OrganizationID string
	Kind           PrincipalKind
	Name           string
	// Admin principals may do anything in their organization.
	Admin     bool
	CreatedAt time.Time
}

// APIKey is a principal's credential. The secret key is shown once at
// creation and otherwise only held sealed.
type APIKey struct {
	AccessKey        string // "SCW" + 17 upper-case characters
	PrincipalID      string
	OrganizationID   string
	DefaultProjectID string
	Description      string
	Disabled         bool
	ExpiresAt        *time.Time
	CreatedAt        time.Time
}

// Caller is the authenticated identity of a request.
type Caller struct {
	Principal *Principal
	// AccessKey is the key the caller authenticated with, if any.
	AccessKey string
	// DefaultProjectID is the project used when a request names none.
	DefaultProjectID string
	// ProjectScope, when set, is the only project the caller may act on:
	// a client certificate is bound to one project.
	ProjectScope string
	// CertificateSerial is the serial of the client certificate the caller
	// authenticated with, if any.
	CertificateSerial string
}

// AuthService authenticates credentials.
type AuthService interface {
	// AuthenticateSecretKey returns the caller whose API secret key is
	// secretKey. Returns EUNAUTHENTICATED.
	AuthenticateSecretKey(ctx context.Context, secretKey string) (*Caller, error)
	// AuthenticateCertificate returns the caller of a client certificate
	// that the TLS layer verified against coffer's CA. Returns
	// EUNAUTHENTICATED.
	AuthenticateCertificate(ctx context.Context, cert *x509.Certificate) (*Caller, error)
}

// IssuedCertificate is a client certificate just issued for mutual TLS,
// with its private key: the key is handed out once and never stored, and
// whoever receives it wipes it once it is sent.
type IssuedCertificate struct {
	Serial   string
	NotAfter time.Time
	CertPEM  []byte
	KeyPEM   []byte
}

// String describes the certificate without its key.
func (c *IssuedCertificate) String() string {
	return "IssuedCertificate{Serial: " + c.Serial + ", KeyPEM: " + Redacted + "}"
}
