package coffer

import (
	"context"
	"time"
)

// How long a web console session lives: it ends after SessionIdleTimeout
// without a request, and SessionLifetime after it began, whichever comes
// first.
const (
	SessionIdleTimeout = 30 * time.Minute
	SessionLifetime    = 12 * time.Hour
)

// NewSession is a session just opened. Its token is handed out once, in a
// cookie, and only its hash is stored.
type NewSession struct {
	Token     string
	ExpiresAt time.Time
}

// String describes the session without its token.
func (s *NewSession) String() string {
	return "NewSession{Token: " + Redacted + ", ExpiresAt: " + s.ExpiresAt.String() + "}"
}

// SessionService opens and ends the web console's sessions. A session
// stands for the credential that opened it: its caller is that of the API
// key or client certificate, checked again on every use, so that a session
// grants exactly what the credential grants, and no longer than it does.
type SessionService interface {
	// CreateSession opens a session for the caller in ctx. replaces is the
	// token of the session the browser holds, if any: it ends in the same
	// transaction, so that logging in again leaves no session behind.
	// Returns EUNAUTHENTICATED.
	CreateSession(ctx context.Context, replaces string) (*NewSession, error)
	// AuthenticateSession returns the caller of a session token: the
	// session must exist, be neither idle nor past its end, and its
	// principal and credential must still be valid. Returns
	// EUNAUTHENTICATED.
	AuthenticateSession(ctx context.Context, token string) (*Caller, error)
	// EndSession ends the session of token; ending one that is already
	// gone is not an error.
	EndSession(ctx context.Context, token string) error
}
