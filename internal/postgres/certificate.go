package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.CertificateTx = (*tx)(nil)

// CreateCertificate records an issued client certificate. Returns
// ErrConflict for a taken serial.
func (t *tx) CreateCertificate(ctx context.Context, c *storage.Certificate) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO certificates (serial, principal_id, project_id, not_after, revoked_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Serial, c.PrincipalID, c.ProjectID, putTime(c.NotAfter), putTimePtr(c.RevokedAt), putTime(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: create certificate %s: %w", c.Serial, classify(err))
	}
	return nil
}

// GetCertificate returns ErrNotFound.
func (t *tx) GetCertificate(ctx context.Context, serial string) (*storage.Certificate, error) {
	var c storage.Certificate
	var notAfter, created int64
	var revoked *int64
	err := t.tx.QueryRow(ctx, `SELECT serial, principal_id, project_id, not_after, revoked_at, created_at
FROM certificates WHERE serial = $1`, serial).Scan(&c.Serial, &c.PrincipalID, &c.ProjectID, &notAfter, &revoked, &created)
	if err != nil {
		return nil, fmt.Errorf("postgres: get certificate %s: %w", serial, classify(err))
	}
	c.NotAfter, c.RevokedAt, c.CreatedAt = getTime(notAfter), getTimePtr(revoked), getTime(created)
	return &c, nil
}

// RevokeCertificate sets RevokedAt if it is not set. Returns ErrNotFound.
func (t *tx) RevokeCertificate(ctx context.Context, serial string, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE certificates SET revoked_at = COALESCE(revoked_at, $1) WHERE serial = $2`,
		putTime(at), serial)
	if err == nil {
		err = mustAffect(tag, "certificate")
	}
	if err != nil {
		return fmt.Errorf("postgres: revoke certificate %s: %w", serial, classify(err))
	}
	return nil
}
