package storage

import (
	"context"
	"time"
)

// Session is a web console session: who logged in, with which credential,
// and until when. The session's token is never stored, only its SHA-256.
type Session struct {
	// TokenHash is the SHA-256 of the session's token.
	TokenHash      []byte
	PrincipalID    string
	OrganizationID string
	// AccessKey is the API key the session was opened with, if any.
	AccessKey string
	// CertificateSerial is the client certificate it was opened with, if
	// any.
	CertificateSerial string
	DefaultProjectID  string
	ProjectScope      string
	CreatedAt         time.Time
	// LastSeenAt is when the session was last used, to a minute or so:
	// the idle expiry counts from it.
	LastSeenAt time.Time
	// ExpiresAt is the session's absolute end.
	ExpiresAt time.Time
}

// SessionTx is implemented by the Tx of stores that keep web console
// sessions.
type SessionTx interface {
	// CreateSession returns ErrConflict for a taken token hash.
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns ErrNotFound.
	GetSession(ctx context.Context, tokenHash []byte) (*Session, error)
	// TouchSession moves LastSeenAt forward to at (never back). Returns
	// ErrNotFound.
	TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error
	// DeleteSession returns ErrNotFound.
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteExpiredSessions removes at most limit sessions last seen
	// before idleBefore or whose ExpiresAt is at or before now, and
	// returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time, limit int) (int, error)
}
