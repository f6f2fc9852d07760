// Package okms serves the OVHcloud OKMS secret REST API v2 over the coffer
// engine, so that okms-sdk-go, the okms CLI and External Secrets Operator's
// OVH provider work against coffer unchanged.
//
// An okmsId is a coffer project; an OKMS path "a/b/c" is the secret named
// "c" in the folder "/a/b", the same secret every other dialect sees. The
// package owns the wire format only: path and body decoding, response
// shapes, the status and error body of each coffer error code. Every rule
// lives in the engine. See README.md for what is supported and where it
// deviates from the real service.
package okms

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/auth"
	"github.com/coffer-dev/coffer/internal/limit"
)

// Service is what this dialect needs of the engine.
type Service interface {
	coffer.SecretService
	coffer.AuthService
	coffer.ProjectService
	coffer.KeyValueService

	// CreateSecretWithVersion creates a secret and its first version in one
	// transaction. Returns EINVALID, ENOTFOUND (project), ECONFLICT (a
	// secret exists at the path), EQUOTA, EFORBIDDEN.
	CreateSecretWithVersion(ctx context.Context, s coffer.SecretCreate, v coffer.VersionCreate) (*coffer.Secret, *coffer.Version, error)
}

// Config configures the dialect.
type Config struct {
	Service Service
	// MaxBodySize bounds request bodies; 1 MiB when 0.
	MaxBodySize int64
	Logger      *slog.Logger
	// Limiter, when set, applies rate limits and the throttling of
	// failed authentications to the routes that authenticate.
	Limiter *limit.Limiter
}

// Handler serves the API at its mount, "/api/{okmsId}/v2" (the paths
// below are relative to it; the mount sets okmsId).
type Handler struct {
	svc     Service
	maxBody int64
	log     *slog.Logger
	auth    *auth.Authenticator
	mux     *http.ServeMux
}

// New returns a Handler.
func New(cfg Config) *Handler {
	h := &Handler{svc: cfg.Service, maxBody: cfg.MaxBodySize, log: cfg.Logger}
	if h.maxBody <= 0 {
		h.maxBody = 1 << 20
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.auth = auth.New(auth.Config{
		Service: cfg.Service,
		Limiter: cfg.Limiter,
		Schemes: []auth.Scheme{auth.ClientCertificate, auth.Bearer},
		Fail: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, auth.ErrNoCredential) {
				err = errNoToken
			}
			h.writeError(r.Context(), w, err)
		},
	})
	h.mux = h.routes()
	return h
}

// Project returns the project a request under the OKMS mounts names: its
// okmsId, which the mount sets. The engine checks that it is a project the
// caller may use. It is also the project of the Vault KV v2 API that OKMS
// serves under /api/{okmsId}/v1.
func Project(r *http.Request) (string, error) {
	id := okmsID(r)
	if id == "" {
		return "", coffer.Invalid("project_id", coffer.ReasonRequired, "the okmsId is required")
	}
	return id, nil
}

// routes returns the API's routes. Each pattern takes every method, so
// that a wrong method answers 405 in this dialect's format; secret paths
// are decoded by the handler itself (see path.go). Unknown paths answer in
// this dialect's format.
func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/secret", h.wrap(h.secrets))
	mux.Handle("/secret/{path...}", h.wrap(h.secret))
	mux.Handle("/secretConfig", h.wrap(h.secretConfig))
	mux.Handle("/", h.wrap(func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
	return mux
}

// ServeHTTP serves a request whose path is relative to the mount.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// WriteBadPath answers a path with ".", ".." or empty segments, which the
// server refuses before routing: for a secret path, the cleaned path would
// name another secret.
func (h *Handler) WriteBadPath(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, errUncleanPath)
}

// WriteInternalError answers with a 500 in the service's format: the server
// uses it when a request's audit record cannot be written.
func (h *Handler) WriteInternalError(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, &coffer.Error{Code: coffer.EINTERNAL, Message: "the request could not be recorded in the audit trail"})
}

// wrap bounds the body, authenticates the caller and writes the handler's
// error, if any, in the service's format.
func (h *Handler) wrap(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return h.auth.Handler(h.maxBody, func(r *http.Request) error {
		if okmsID(r) == "" {
			return errNoRoute
		}
		return nil
	}, fn, h.writeErr)
}

// writeErr is writeError as auth.Handler takes it.
func (h *Handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(r.Context(), w, err)
}

// okmsID returns the project the request names.
func okmsID(r *http.Request) string { return r.PathValue("okmsId") }

// secrets serves /secret.
func (h *Handler) secrets(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet:
		return h.listSecrets(w, r)
	case http.MethodPost:
		return h.createSecret(w, r)
	}
	return methodNotAllowed(w, http.MethodGet, http.MethodPost)
}

// secret serves /secret/{path}, /secret/{path}/version and
// /secret/{path}/version/{version}.
func (h *Handler) secret(w http.ResponseWriter, r *http.Request) error {
	t, err := parseTarget(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	switch t.kind {
	case targetSecret:
		switch r.Method {
		case http.MethodGet:
			return h.getSecret(w, r, t)
		case http.MethodPut:
			return h.updateSecret(w, r, t)
		case http.MethodDelete:
			return h.deleteSecret(w, r, t)
		}
		return methodNotAllowed(w, http.MethodGet, http.MethodPut, http.MethodDelete)
	case targetVersions:
		switch r.Method {
		case http.MethodGet:
			return h.listVersions(w, r, t)
		case http.MethodPost:
			return h.createVersion(w, r, t)
		}
		return methodNotAllowed(w, http.MethodGet, http.MethodPost)
	}
	switch r.Method {
	case http.MethodGet:
		return h.getVersion(w, r, t)
	case http.MethodPut:
		return h.updateVersion(w, r, t)
	}
	return methodNotAllowed(w, http.MethodGet, http.MethodPut)
}

// secretConfig serves /secretConfig.
func (h *Handler) secretConfig(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet:
		return h.getConfig(w, r)
	case http.MethodPut:
		return h.updateConfig(w, r)
	}
	return methodNotAllowed(w, http.MethodGet, http.MethodPut)
}

// methodNotAllowed sets the Allow header and returns the 405 error.
func methodNotAllowed(w http.ResponseWriter, allowed ...string) error {
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	return errMethod
}
