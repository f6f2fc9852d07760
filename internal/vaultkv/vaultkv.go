// Package vaultkv serves the HashiCorp Vault KV secrets engine v2 API over
// the coffer engine, so that the vault and bao CLIs, the official vault/api
// Go client, OpenBao's client and the tools built on them work against
// coffer unchanged.
//
// The mount "secret" is a coffer project: the caller's default project under
// /v1, the okmsId under OVHcloud OKMS's Vault-compatible /api/{okmsId}/v1. A
// KV path "a/b/c" is the secret named "c" in the folder "/a/b", the same
// secret every other dialect sees. The package owns the wire format only:
// path and body decoding, response envelopes, the status and error body of
// each coffer error code. Every rule lives in the engine. See README.md for
// what is supported and where coffer deviates from Vault.
package vaultkv

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

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
}

// Config configures the dialect.
type Config struct {
	Service Service
	// Project returns the project that the mount stands for;
	// DefaultProject when nil.
	Project ProjectFunc
	// System serves, besides the KV engine, the sys/ and auth/token/
	// endpoints clients call (mount discovery, health, token lookup): the
	// plain Vault API has them, OKMS's does not.
	System bool
	// MaxBodySize bounds request bodies; 1 MiB when 0. A larger body is
	// answered 413.
	MaxBodySize int64
	// Now is the clock of the engine; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
	// Limiter, when set, applies rate limits and the throttling of
	// failed authentications to the routes that authenticate.
	Limiter *limit.Limiter
}

// Handler serves the API at a mount such as "/v1" (the paths below are
// relative to it).
type Handler struct {
	svc     Service
	maxBody int64
	now     func() time.Time
	log     *slog.Logger
	auth    *auth.Authenticator
	mux     *http.ServeMux
}

// New returns a Handler.
func New(cfg Config) *Handler {
	h := &Handler{svc: cfg.Service, maxBody: cfg.MaxBodySize, now: cfg.Now, log: cfg.Logger}
	if h.maxBody <= 0 {
		h.maxBody = 1 << 20
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Project == nil {
		cfg.Project = DefaultProject
	}
	h.auth = auth.New(auth.Config{
		Service: cfg.Service,
		Limiter: cfg.Limiter,
		Schemes: []auth.Scheme{auth.ClientCertificate, auth.XVaultToken, auth.Bearer},
		Fail: func(w http.ResponseWriter, r *http.Request, err error) {
			switch {
			case errors.Is(err, auth.ErrNoCredential):
				err = errNoToken
			case coffer.ErrorCode(err) == coffer.EUNAUTHENTICATED:
				err = errBadToken
			default:
				// A limit (internal/limit), or a fault of the check.
				h.writeError(r.Context(), w, err)
				return
			}
			h.writeError(r.Context(), w, err)
			coffer.AuditEntryFromContext(r.Context()).SetErrorCode(coffer.EUNAUTHENTICATED)
		},
	})
	h.mux = http.NewServeMux()
	h.routes(h.mux, cfg.Project, cfg.System)
	return h
}

// ServeHTTP serves a request whose path is relative to the mount.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// MountName is the name of the one KV v2 mount.
const MountName = "secret"

// ProjectFunc returns the project that the mount of a request stands for.
// It runs after authentication: the caller is in the request's context.
type ProjectFunc func(r *http.Request) (string, error)

// DefaultProject is the ProjectFunc of the plain Vault API: the default
// project of the caller's API key.
func DefaultProject(r *http.Request) (string, error) {
	c := coffer.CallerFromContext(r.Context())
	if c == nil || c.DefaultProjectID == "" {
		return "", coffer.Errorf(coffer.EINVALID, "this API key has no default project, which the %q mount stands for", MountName)
	}
	return c.DefaultProjectID, nil
}

// routes mounts the KV v2 engine as the mount "secret" on the project that
// project returns and, with system, the sys/ and auth/token/ endpoints.
// Every pattern takes every method, so that an unsupported one is answered
// in Vault's format; other paths are answered "no handler for route".
func (h *Handler) routes(mux *http.ServeMux, project ProjectFunc, system bool) {
	kv := "/" + MountName
	routes := []struct {
		pattern string
		fn      engineFunc
	}{
		{"/config", h.config},
		{"/data/{path...}", h.data},
		{"/metadata", h.metadata},
		{"/metadata/{path...}", h.metadata},
		{"/detailed-metadata", h.detailedMetadata},
		{"/detailed-metadata/{path...}", h.detailedMetadata},
		{"/delete/{path...}", h.deleteVersions},
		{"/undelete/{path...}", h.undeleteVersions},
		{"/destroy/{path...}", h.destroyVersions},
		{"/subkeys/{path...}", h.subkeys},
		// The bare endpoint names: without these, the mux would redirect
		// them to their name with a slash.
		{"/data", h.mountRoot},
		{"/delete", h.mountRoot},
		{"/undelete", h.mountRoot},
		{"/destroy", h.mountRoot},
		{"/subkeys", h.mountRoot},
		{"", h.invalidPath},
		{"/{rest...}", h.invalidPath},
	}
	for _, rt := range routes {
		mux.Handle(kv+rt.pattern, h.engine(project, rt.fn))
	}
	mux.Handle("/", h.wrap(h.noRoute))
	if !system {
		return
	}
	authed := []struct {
		pattern string
		fn      handlerFunc
	}{
		{"/sys/internal/ui/mounts", h.uiMounts},
		{"/sys/internal/ui/mounts/{path...}", h.uiMount},
		{"/sys/mounts-all", h.uiMounts},
		{"/sys/mounts-all/{path...}", h.uiMount},
		{"/sys/mounts", h.mounts},
		{"/sys/mounts/{path...}", h.mount},
		{"/auth/token/lookup-self", h.lookupSelf},
		{"/auth/token/revoke-self", h.revokeSelf},
	}
	for _, rt := range authed {
		mux.Handle(rt.pattern, h.wrap(rt.fn))
	}
	// Vault serves these without a token.
	mux.Handle("/sys/health", h.public(h.health))
	mux.Handle("/sys/seal-status", h.public(h.sealStatus))
}

// WriteBadPath answers a path with ".", ".." or empty segments, which the
// server refuses before routing: a router would redirect to the cleaned
// path, which for a secret path is another secret.
func (h *Handler) WriteBadPath(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, errUncleanPath)
}

// WriteInternalError answers with a 500 in the service's format: the server
// uses it when a request's audit record cannot be written.
func (h *Handler) WriteInternalError(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, &coffer.Error{Code: coffer.EINTERNAL, Message: "the request could not be recorded in the audit trail"})
}

// handlerFunc serves one authenticated request; a returned error is written
// in Vault's format.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// engineFunc serves one request on the KV engine of a project.
type engineFunc func(w http.ResponseWriter, r *http.Request, project string) error

// engine wraps an engine handler: it authenticates the request, then finds
// the project of the mount.
func (h *Handler) engine(project ProjectFunc, fn engineFunc) http.Handler {
	return h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		id, err := project(r)
		if err != nil {
			return err
		}
		return fn(w, r, id)
	})
}

// wrap bounds the body, refuses what coffer does not serve (namespaces,
// response wrapping), authenticates the caller, and writes the handler's
// error, if any, in Vault's format.
func (h *Handler) wrap(fn handlerFunc) http.Handler {
	return h.auth.Handler(h.maxBody, func(r *http.Request) error { return unsupportedHeaders(r.Header) }, fn, h.writeErr)
}

// writeErr is writeError as auth.Handler takes it.
func (h *Handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(r.Context(), w, err)
}

// public wraps a handler that needs no token.
func (h *Handler) public(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.writeError(r.Context(), w, err)
		}
	})
}

// unsupportedHeaders refuses a request for a namespace other than the root
// one, or for a wrapped response: coffer has neither, and ignoring them
// would answer something else than what was asked.
func unsupportedHeaders(hd http.Header) error {
	switch ns := strings.Trim(hd.Get("X-Vault-Namespace"), "/ "); ns {
	case "", "root":
	default:
		return &statusError{status: http.StatusBadRequest, msgs: []string{"namespaces are not supported: coffer serves only the root namespace"}}
	}
	if hd.Get("X-Vault-Wrap-TTL") != "" {
		return &statusError{status: http.StatusBadRequest, msgs: []string{"response wrapping is not supported"}}
	}
	return nil
}

// noRoute answers a path that no mount serves, as Vault's router does.
func (h *Handler) noRoute(_ http.ResponseWriter, r *http.Request) error {
	return &statusError{status: http.StatusNotFound, msgs: []string{
		`no handler for route "` + routePath(r) + `". route entry not found.`,
	}}
}

// routePath returns the part of a request's path below the mount ("/v1").
func routePath(r *http.Request) string {
	return truncate(strings.TrimPrefix(r.URL.Path, "/"), 256)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
