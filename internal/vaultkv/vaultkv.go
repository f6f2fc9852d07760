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
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dev/coffer"
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
	// MaxBodySize bounds request bodies; 1 MiB when 0. A larger body is
	// answered 413.
	MaxBodySize int64
	// Now is the clock of the engine; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Handler serves the API.
type Handler struct {
	svc     Service
	maxBody int64
	now     func() time.Time
	log     *slog.Logger

	mu sync.RWMutex
	// prefixes are the mounted prefixes, split into segments: the paths
	// this handler owns.
	prefixes [][]string
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
	return h
}

// Prefix is where the plain Vault API lives.
const Prefix = "/v1"

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

// Register mounts the plain Vault API under /v1: the KV v2 engine as the
// mount "secret" on the caller's default project, and the sys/ and auth/
// endpoints clients need.
func (h *Handler) Register(mux *http.ServeMux) {
	h.Mount(mux, Prefix, DefaultProject)
	h.MountSystem(mux, Prefix)
}

// Mount mounts the KV v2 engine, as the mount "secret", under prefix (such
// as "/v1", or "/api/{okmsId}/v1" for OKMS), on the project that project
// returns. Every pattern takes every method, so that an unsupported one is
// answered in Vault's format; paths under prefix that are not the engine's
// are answered "no handler for route", and OwnsPath claims them.
func (h *Handler) Mount(mux *http.ServeMux, prefix string, project ProjectFunc) {
	h.watch(prefix)
	kv := prefix + "/" + MountName
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
	mux.Handle(prefix, h.wrap(h.noRoute))
	mux.Handle(prefix+"/", h.wrap(h.noRoute))
}

// MountSystem mounts under prefix the sys/ and auth/token/ endpoints that
// clients call: mount discovery, health, seal status, token lookup.
func (h *Handler) MountSystem(mux *http.ServeMux, prefix string) {
	h.watch(prefix)
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
		mux.Handle(prefix+rt.pattern, h.wrap(rt.fn))
	}
	// Vault serves these without a token.
	mux.Handle(prefix+"/sys/health", h.public(h.health))
	mux.Handle(prefix+"/sys/seal-status", h.public(h.sealStatus))
}

// watch records a mounted prefix for OwnsPath.
func (h *Handler) watch(prefix string) {
	segs := strings.Split(strings.Trim(prefix, "/"), "/")
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.prefixes {
		if strings.Join(p, "/") == strings.Join(segs, "/") {
			return
		}
	}
	h.prefixes = append(h.prefixes, segs)
}

// OwnsPath reports whether a request path lies under a mounted prefix. A
// "{name}" segment of a prefix matches any segment.
func (h *Handler) OwnsPath(p string) bool {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	h.mu.RLock()
	defer h.mu.RUnlock()
next:
	for _, prefix := range h.prefixes {
		if len(segs) <= len(prefix) {
			continue
		}
		for i, want := range prefix {
			if !(strings.HasPrefix(want, "{") && strings.HasSuffix(want, "}")) && segs[i] != want {
				continue next
			}
		}
		return true
	}
	return false
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
// response wrapping), authenticates the token unless a client certificate
// did already, and writes the handler's error, if any, in Vault's format.
func (h *Handler) wrap(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
		if err := unsupportedHeaders(r.Header); err != nil {
			h.writeError(ctx, w, err)
			return
		}
		if coffer.CallerFromContext(ctx) == nil {
			token := requestToken(r.Header)
			if token == "" {
				h.writeError(ctx, w, errNoToken)
				return
			}
			c, err := h.svc.AuthenticateSecretKey(ctx, token)
			if err != nil {
				if coffer.ErrorCode(err) == coffer.EUNAUTHENTICATED {
					err = errBadToken
				}
				h.writeError(ctx, w, err)
				return
			}
			r = r.WithContext(coffer.NewContextWithCaller(ctx, c))
		}
		if err := fn(w, r); err != nil {
			h.writeError(r.Context(), w, err)
		}
	})
}

// public wraps a handler that needs no token.
func (h *Handler) public(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.writeError(r.Context(), w, err)
		}
	})
}

// requestToken returns the token of X-Vault-Token or, when that header is
// absent, of "Authorization: Bearer <token>".
func requestToken(hd http.Header) string {
	if t := strings.TrimSpace(hd.Get("X-Vault-Token")); t != "" {
		return t
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(hd.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
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

// routePath returns the part of a request's path after its "/v1/".
func routePath(r *http.Request) string {
	p := r.URL.Path
	if i := strings.Index(p, "/v1/"); i >= 0 {
		p = p[i+len("/v1/"):]
	} else if strings.HasSuffix(p, "/v1") {
		p = ""
	}
	return truncate(p, 256)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
