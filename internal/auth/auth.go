// Package auth finds out who is calling, once, for every dialect.
//
// A request carries its credential in one of a few ways, which the dialects
// share: an API secret key in X-Auth-Token (Scaleway), X-Vault-Token (Vault)
// or "Authorization: Bearer" (OKMS, Vault, the admin API), a client
// certificate on the TLS listener (mutual TLS), or, for the dialects that
// sign requests with the key's secret (NAVER's signature v2), a signature
// that only the engine can check. A dialect lists the schemes it accepts, in
// the order it looks for them; the middleware asks the engine once and puts
// the caller in the request's context. The dialect only formats the refusal,
// in its own body: every rule of who may call lives here and in the engine,
// so that a change to it is made once.
package auth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/limit"
)

// ErrNoCredential is the error a dialect's Fail receives when a request
// carries no credential of any scheme it accepts. Dialects tell it apart
// from a refused credential when their vendor does (Vault answers "missing
// client token"); nothing in either says which part of a credential was
// wrong.
var ErrNoCredential = &coffer.Error{Code: coffer.EUNAUTHENTICATED, Message: "no credential was given"}

// Scheme is one way a request carries a credential.
type Scheme struct {
	name string
	// check authenticates r if it carries this scheme's credential: found
	// is false when it carries none, and the next scheme is tried.
	check func(ctx context.Context, svc coffer.AuthService, r *http.Request) (c *coffer.Caller, found bool, err error)
}

// String names the scheme.
func (s Scheme) String() string { return s.name }

// Header is the scheme of an API secret key in a header of its own, such as
// X-Auth-Token or X-Vault-Token. Surrounding spaces are ignored.
func Header(name string) Scheme {
	return Scheme{name: name, check: func(ctx context.Context, svc coffer.AuthService, r *http.Request) (*coffer.Caller, bool, error) {
		key := strings.TrimSpace(r.Header.Get(name))
		if key == "" {
			return nil, false, nil
		}
		c, err := svc.AuthenticateSecretKey(ctx, key)
		return c, true, err
	}}
}

// The schemes the dialects use.
var (
	XAuthToken  = Header("X-Auth-Token")
	XVaultToken = Header("X-Vault-Token")
	// Bearer is "Authorization: Bearer <secret key>": one Authorization
	// header, the scheme's name in any case.
	Bearer = Scheme{name: "Bearer", check: func(ctx context.Context, svc coffer.AuthService, r *http.Request) (*coffer.Caller, bool, error) {
		key, ok := BearerToken(r.Header)
		if !ok {
			return nil, false, nil
		}
		c, err := svc.AuthenticateSecretKey(ctx, key)
		return c, true, err
	}}
	// ClientCertificate is a client certificate that the TLS listener
	// verified against coffer's CA. A certificate the engine refuses
	// (revoked, expired, unknown) counts as none: the request may still
	// carry a key of a later scheme.
	ClientCertificate = Scheme{name: "client certificate", check: func(ctx context.Context, svc coffer.AuthService, r *http.Request) (*coffer.Caller, bool, error) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
			return nil, false, nil
		}
		c, err := svc.AuthenticateCertificate(ctx, r.TLS.VerifiedChains[0][0])
		if coffer.ErrorCode(err) == coffer.EUNAUTHENTICATED {
			return nil, false, nil
		}
		return c, err == nil, err
	}}
)

// SessionAuthenticator exchanges a web console session's token for its
// caller (coffer.SessionService).
type SessionAuthenticator interface {
	AuthenticateSession(ctx context.Context, token string) (*coffer.Caller, error)
}

// Session is the scheme of the web console: the token of a server-side
// session in the cookie named cookie, which svc exchanges for the caller
// who opened the session.
func Session(cookie string, svc SessionAuthenticator) Scheme {
	return Scheme{name: "session cookie", check: func(ctx context.Context, _ coffer.AuthService, r *http.Request) (*coffer.Caller, bool, error) {
		ck, err := r.Cookie(cookie)
		if err != nil || ck.Value == "" {
			return nil, false, nil
		}
		c, err := svc.AuthenticateSession(ctx, ck.Value)
		return c, true, err
	}}
}

// FormField is the scheme of an API secret key in a field of a POSTed form
// (the web console's login form). The form is parsed within the request's
// body bound.
func FormField(name string) Scheme {
	return Scheme{name: "form field " + name, check: func(ctx context.Context, svc coffer.AuthService, r *http.Request) (*coffer.Caller, bool, error) {
		if r.Method != http.MethodPost {
			return nil, false, nil
		}
		key := strings.TrimSpace(r.PostFormValue(name))
		if key == "" {
			return nil, false, nil
		}
		c, err := svc.AuthenticateSecretKey(ctx, key)
		return c, true, err
	}}
}

// Verifier checks a signed request, such as NAVER's signature v2, and
// returns its caller. It returns ErrNoCredential when r carries no
// signature of its kind, and EUNAUTHENTICATED when the signature, its key
// or its time is wrong.
type Verifier func(ctx context.Context, r *http.Request) (*coffer.Caller, error)

// Signed is the scheme of requests signed with a key's secret.
func Signed(name string, verify Verifier) Scheme {
	return Scheme{name: name, check: func(ctx context.Context, _ coffer.AuthService, r *http.Request) (*coffer.Caller, bool, error) {
		c, err := verify(ctx, r)
		if errors.Is(err, ErrNoCredential) {
			return nil, false, nil
		}
		return c, true, err
	}}
}

// BearerToken returns the token of the one "Authorization: Bearer <token>"
// header of hd; the scheme's name is case-insensitive.
func BearerToken(hd http.Header) (string, bool) {
	v := hd.Values("Authorization")
	if len(v) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(v[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Config configures an Authenticator.
type Config struct {
	Service coffer.AuthService
	// Schemes are tried in order; the first one whose credential the
	// request carries decides.
	Schemes []Scheme
	// Fail answers a request that is not authenticated, in the dialect's
	// format: err is ErrNoCredential, an EUNAUTHENTICATED error, an
	// ETOOMANY error of Limiter (Require has set Retry-After), or an
	// internal error of the check.
	Fail func(w http.ResponseWriter, r *http.Request, err error)
	// Limiter, when not nil, admits the requests of Require: the source
	// address before the credential is looked at, the caller after (see
	// internal/limit). Refused credentials count against their source.
	Limiter *limit.Limiter
}

// Authenticator is the authentication of one dialect.
type Authenticator struct {
	cfg Config
}

// New returns an Authenticator. It panics on a Config without a service,
// a scheme or a Fail: a dialect built that way would serve its routes to
// anyone, or answer in no format.
func New(cfg Config) *Authenticator {
	if cfg.Service == nil || len(cfg.Schemes) == 0 || cfg.Fail == nil {
		panic("auth: a Config needs a Service, Schemes and Fail")
	}
	return &Authenticator{cfg: cfg}
}

// Authenticate returns the caller of r, or ErrNoCredential, or the error
// of the scheme that found a credential.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (*coffer.Caller, error) {
	for _, s := range a.cfg.Schemes {
		c, found, err := s.check(ctx, a.cfg.Service, r)
		if !found {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c == nil || c.Principal == nil {
			return nil, &coffer.Error{Code: coffer.EINTERNAL, Message: "authentication returned no caller"}
		}
		coffer.AuditEntryFromContext(ctx).SetCaller(c)
		return c, nil
	}
	return nil, ErrNoCredential
}

// Require serves next to authenticated requests only, with the caller in
// the request's context; the others get the dialect's Fail. With a
// Limiter, a request its source or its caller may not send now is refused
// with an ETOOMANY error and a Retry-After header: a source that failed to
// authenticate too often, before its credential is checked.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lim := a.cfg.Limiter
		forwarded := r.Header["X-Forwarded-For"]
		if err := lim.Source(r.RemoteAddr, forwarded); err != nil {
			a.refuse(w, r, err)
			return
		}
		c, err := a.Authenticate(r.Context(), r)
		if err != nil {
			if coffer.ErrorCode(err) == coffer.EUNAUTHENTICATED && !errors.Is(err, ErrNoCredential) {
				lim.Failed(r.RemoteAddr, forwarded)
			}
			a.cfg.Fail(w, r, err)
			return
		}
		ticket, err := lim.Caller(c)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		defer ticket.Done()
		next.ServeHTTP(w, r.WithContext(coffer.NewContextWithCaller(r.Context(), c)))
	})
}

// refuse answers a request a Limiter refused: Retry-After, then the
// dialect's error.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if d, ok := limit.RetryAfter(err); ok {
		w.Header()["Retry-After"] = []string{strconv.FormatInt(limit.RetryAfterSeconds(d), 10)}
	}
	a.cfg.Fail(w, r, err)
}

// Handler serves fn as a route of a dialect: the request's body is bounded
// to maxBody (http.MaxBytesReader: a larger body fails its read), check (when
// not nil) refuses what the dialect refuses before any credential is looked
// at, the caller is authenticated as Require does, and the error of check or
// fn, if any, is written by write in the dialect's format.
func (a *Authenticator) Handler(maxBody int64, check func(r *http.Request) error,
	fn func(w http.ResponseWriter, r *http.Request) error, write func(w http.ResponseWriter, r *http.Request, err error)) http.Handler {
	authed := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			write(w, r, err)
		}
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if check != nil {
			if err := check(r); err != nil {
				write(w, r, err)
				return
			}
		}
		authed.ServeHTTP(w, r)
	})
}
