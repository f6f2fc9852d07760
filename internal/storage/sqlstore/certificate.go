package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.CertificateTx = (*Tx)(nil)

// certificateColumns are the columns GetCertificate reads.
const certificateColumns = `serial, principal_id, project_id, not_after, revoked_at, created_at`

// CreateCertificate records an issued client certificate. Returns
// ErrConflict for a taken serial.
func (t *Tx) CreateCertificate(ctx context.Context, c *storage.Certificate) error {
	_, err := t.exec(ctx, `INSERT INTO certificates (`+certificateColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Serial, c.PrincipalID, c.ProjectID, putTime(c.NotAfter), putTimePtr(c.RevokedAt), putTime(c.CreatedAt))
	if err != nil {
		return t.errorf("create certificate %s: %w", c.Serial, t.classify(err))
	}
	return nil
}

// GetCertificate returns ErrNotFound.
func (t *Tx) GetCertificate(ctx context.Context, serial string) (*storage.Certificate, error) {
	var (
		c                 storage.Certificate
		notAfter, created int64
		revoked           sql.NullInt64
	)
	err := t.queryRow(ctx, `SELECT `+certificateColumns+` FROM certificates WHERE serial = ?`, serial).
		Scan(&c.Serial, &c.PrincipalID, &c.ProjectID, &notAfter, &revoked, &created)
	if err != nil {
		return nil, t.errorf("get certificate %s: %w", serial, t.classify(err))
	}
	c.NotAfter, c.RevokedAt, c.CreatedAt = getTime(notAfter), getTimePtr(revoked), getTime(created)
	return &c, nil
}

// RevokeCertificate sets RevokedAt if it is not set. Returns ErrNotFound.
func (t *Tx) RevokeCertificate(ctx context.Context, serial string, at time.Time) error {
	n, err := t.exec(ctx, `UPDATE certificates SET revoked_at = COALESCE(revoked_at, ?) WHERE serial = ?`,
		putTime(at), serial)
	if err == nil {
		err = mustAffect(n, "certificate")
	}
	if err != nil {
		return t.errorf("revoke certificate %s: %w", serial, t.classify(err))
	}
	return nil
}
