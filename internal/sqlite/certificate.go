package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.CertificateTx = (*tx)(nil)

const (
	createCertificateSQL = `INSERT INTO certificates (serial, principal_id, project_id, not_after, revoked_at, created_at)
VALUES (?, ?, ?, ?, ?, ?)`
	getCertificateSQL = `SELECT serial, principal_id, project_id, not_after, revoked_at, created_at
FROM certificates WHERE serial = ?`
	revokeCertificateSQL = `UPDATE certificates SET revoked_at = COALESCE(revoked_at, ?) WHERE serial = ?`
)

// CreateCertificate records an issued client certificate. Returns
// ErrConflict for a taken serial.
func (t *tx) CreateCertificate(ctx context.Context, c *storage.Certificate) error {
	_, err := t.exec(ctx, createCertificateSQL, c.Serial, c.PrincipalID, c.ProjectID,
		putTime(c.NotAfter), putTimePtr(c.RevokedAt), putTime(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create certificate %s: %w", c.Serial, classify(err))
	}
	return nil
}

// GetCertificate returns ErrNotFound.
func (t *tx) GetCertificate(ctx context.Context, serial string) (*storage.Certificate, error) {
	var (
		c                 storage.Certificate
		notAfter, created int64
		revoked           sql.NullInt64
	)
	err := t.queryRow(ctx, getCertificateSQL, serial).Scan(&c.Serial, &c.PrincipalID, &c.ProjectID, &notAfter, &revoked, &created)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get certificate %s: %w", serial, classify(err))
	}
	c.NotAfter, c.RevokedAt, c.CreatedAt = getTime(notAfter), getTimePtr(revoked), getTime(created)
	return &c, nil
}

// RevokeCertificate sets RevokedAt if it is not set. Returns ErrNotFound.
func (t *tx) RevokeCertificate(ctx context.Context, serial string, at time.Time) error {
	res, err := t.exec(ctx, revokeCertificateSQL, putTime(at), serial)
	if err != nil {
		return fmt.Errorf("sqlite: revoke certificate %s: %w", serial, classify(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: revoke certificate %s: %w", serial, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: revoke certificate %s: %w", serial, storage.ErrNotFound)
	}
	return nil
}
