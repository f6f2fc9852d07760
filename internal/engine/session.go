package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Web console sessions.
//
// A session is a row keyed by the SHA-256 of a random 256-bit token; the
// token itself is only ever in the browser's cookie. The row names the
// credential that opened the session (API key or client certificate), and
// every use reads that credential and the principal again: disabling or
// deleting the key, revoking the certificate or deleting the principal ends
// the session's rights at once, on every node, as the sessions are in the
// shared store. A use that finds the session last seen more than
// sessionTouch ago moves its last-seen time, so that the idle expiry costs a
// write per minute of use, not one per request.

// sessionTouch is how stale a session's last-seen time may get before a use
// writes it again.
const sessionTouch = time.Minute

// sessionSweep bounds the expired sessions removed when a session opens.
const sessionSweep = 100

var _ coffer.SessionService = (*Engine)(nil)

func sessionTx(tx storage.Tx) (storage.SessionTx, error) {
	st, ok := tx.(storage.SessionTx)
	if !ok {
		return nil, coffer.Errorf(coffer.EUNAVAILABLE, "this store does not keep sessions")
	}
	return st, nil
}

func sessionHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateSession opens a session for the caller in ctx, and ends the one it
// replaces and some expired sessions in the same transaction. Returns
// EUNAUTHENTICATED.
func (e *Engine) CreateSession(ctx context.Context, replaces string) (*coffer.NewSession, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := e.Now()
	s := &storage.Session{
		TokenHash: sessionHash(token), PrincipalID: c.Principal.ID, OrganizationID: c.Principal.OrganizationID,
		AccessKey: c.AccessKey, CertificateSerial: c.CertificateSerial,
		DefaultProjectID: c.DefaultProjectID, ProjectScope: c.ProjectScope,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(coffer.SessionLifetime),
	}
	err = e.update(ctx, func(tx storage.Tx) error {
		st, err := sessionTx(tx)
		if err != nil {
			return err
		}
		if _, err := st.DeleteExpiredSessions(ctx, now.Add(-coffer.SessionIdleTimeout), now, sessionSweep); err != nil {
			return err
		}
		if replaces != "" && len(replaces) <= 256 {
			if err := st.DeleteSession(ctx, sessionHash(replaces)); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		return st.CreateSession(ctx, s)
	})
	if err != nil {
		return nil, storageErr(err, "session", "")
	}
	return &coffer.NewSession{Token: token, ExpiresAt: s.ExpiresAt}, nil
}

// AuthenticateSession returns the caller of a session token. Returns
// EUNAUTHENTICATED.
func (e *Engine) AuthenticateSession(ctx context.Context, token string) (*coffer.Caller, error) {
	if token == "" || len(token) > 256 {
		return nil, errBadCredential
	}
	h := sessionHash(token)
	now := e.Now()
	var (
		out   *coffer.Caller
		touch bool
	)
	err := e.view(ctx, func(tx storage.Tx) error {
		st, err := sessionTx(tx)
		if err != nil {
			return err
		}
		s, err := st.GetSession(ctx, h)
		if err != nil {
			return err
		}
		// The row was found by the hash; comparing again costs nothing
		// and keeps a store's lookup out of the decision.
		if subtle.ConstantTimeCompare(s.TokenHash, h) != 1 || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= coffer.SessionIdleTimeout {
			return errBadCredential
		}
		p, err := tx.GetPrincipal(ctx, s.PrincipalID)
		if err != nil {
			return err
		}
		if p.OrganizationID != s.OrganizationID {
			return errBadCredential
		}
		if s.AccessKey != "" {
			k, err := tx.GetAPIKey(ctx, s.AccessKey)
			if err != nil {
				return err
			}
			if k.Disabled || k.PrincipalID != p.ID || (k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)) {
				return errBadCredential
			}
		}
		if s.CertificateSerial != "" {
			ct, err := certificateTx(tx)
			if err != nil {
				return err
			}
			rec, err := ct.GetCertificate(ctx, s.CertificateSerial)
			if err != nil {
				return err
			}
			if rec.RevokedAt != nil || !now.Before(rec.NotAfter) || rec.PrincipalID != p.ID {
				return errBadCredential
			}
		}
		if s.AccessKey == "" && s.CertificateSerial == "" {
			return errBadCredential
		}
		out = &coffer.Caller{Principal: p, AccessKey: s.AccessKey, DefaultProjectID: s.DefaultProjectID,
			ProjectScope: s.ProjectScope, CertificateSerial: s.CertificateSerial}
		touch = now.Sub(s.LastSeenAt) >= sessionTouch
		return nil
	})
	if err != nil {
		if coffer.ErrorCode(err) == coffer.EINTERNAL && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		return nil, errBadCredential
	}
	if touch {
		// Not the request's change: written without its audit draft.
		err := e.store.Update(ctx, func(tx storage.Tx) error {
			st, err := sessionTx(tx)
			if err != nil {
				return err
			}
			return st.TouchSession(ctx, h, now)
		})
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errBadCredential // ended meanwhile
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EndSession removes the session of token.
func (e *Engine) EndSession(ctx context.Context, token string) error {
	if token == "" || len(token) > 256 {
		return nil
	}
	err := e.update(ctx, func(tx storage.Tx) error {
		st, err := sessionTx(tx)
		if err != nil {
			return err
		}
		return st.DeleteSession(ctx, sessionHash(token))
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storageErr(err, "session", "")
	}
	return nil
}
