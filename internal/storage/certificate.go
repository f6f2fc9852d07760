package storage

import (
	"context"
	"time"
)

// Certificate is a client certificate issued by coffer's CA. Only its
// serial and what it grants are kept, never its private key.
type Certificate struct {
	// Serial is the certificate's serial number in lower-case hex.
	Serial      string
	PrincipalID string
	ProjectID   string
	NotAfter    time.Time
	// RevokedAt is set once the certificate is revoked.
	RevokedAt *time.Time
	CreatedAt time.Time
}

// CertificateTx is implemented by the Tx of stores that keep issued client
// certificates.
type CertificateTx interface {
	// CreateCertificate returns ErrConflict for a taken serial.
	CreateCertificate(ctx context.Context, c *Certificate) error
	// GetCertificate returns ErrNotFound.
	GetCertificate(ctx context.Context, serial string) (*Certificate, error)
	// RevokeCertificate sets RevokedAt if it is not set. Returns ErrNotFound.
	RevokeCertificate(ctx context.Context, serial string, at time.Time) error
}
