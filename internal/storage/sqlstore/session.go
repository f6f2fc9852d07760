package sqlstore

import (
	"context"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.SessionTx = (*Tx)(nil)

// sessionColumns are the columns GetSession reads.
const sessionColumns = `token_hash, principal_id, organization_id, access_key, certificate_serial,
default_project_id, project_scope, created_at, last_seen_at, expires_at`

// CreateSession records a session. Returns ErrConflict for a taken token
// hash.
func (t *Tx) CreateSession(ctx context.Context, s *storage.Session) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.TokenHash, s.PrincipalID, s.OrganizationID, s.AccessKey, s.CertificateSerial,
		s.DefaultProjectID, s.ProjectScope, putTime(s.CreatedAt), putTime(s.LastSeenAt), putTime(s.ExpiresAt))
	if err != nil {
		return t.errorf("create session: %w", t.classify(err))
	}
	return nil
}

// GetSession returns ErrNotFound.
func (t *Tx) GetSession(ctx context.Context, tokenHash []byte) (*storage.Session, error) {
	var (
		s                      storage.Session
		created, seen, expires int64
	)
	err := t.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, tokenHash).
		Scan(&s.TokenHash, &s.PrincipalID, &s.OrganizationID, &s.AccessKey, &s.CertificateSerial,
			&s.DefaultProjectID, &s.ProjectScope, &created, &seen, &expires)
	if err != nil {
		return nil, t.errorf("get session: %w", t.classify(err))
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = getTime(created), getTime(seen), getTime(expires)
	return &s, nil
}

// TouchSession moves LastSeenAt forward. Returns ErrNotFound.
func (t *Tx) TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	n, err := t.exec(ctx, `UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END
WHERE token_hash = ?`, putTime(at), putTime(at), tokenHash)
	if err == nil {
		err = mustAffect(n, "session")
	}
	if err != nil {
		return t.errorf("touch session: %w", t.classify(err))
	}
	return nil
}

// DeleteSession returns ErrNotFound.
func (t *Tx) DeleteSession(ctx context.Context, tokenHash []byte) error {
	n, err := t.exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	if err == nil {
		err = mustAffect(n, "session")
	}
	if err != nil {
		return t.errorf("delete session: %w", t.classify(err))
	}
	return nil
}

// DeleteExpiredSessions removes at most limit expired sessions.
func (t *Tx) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	n, err := t.exec(ctx, `DELETE FROM sessions WHERE token_hash IN (
SELECT token_hash FROM sessions WHERE last_seen_at < ? OR expires_at <= ? LIMIT ?)`,
		putTime(idleBefore), putTime(now), limit)
	if err != nil {
		return 0, t.errorf("delete expired sessions: %w", t.classify(err))
	}
	return int(n), nil
}
