// Package imco serves IMCO's (Ingram Micro Cloud Orchestrator) v3 secrets
// API over the coffer engine: key vaults, their secrets and secret
// versions, labels, and the agent route that hands a version's content to
// a host.
//
// A key vault is a folder of a project; its secrets are the project's
// secrets in that folder, the same ones every other dialect sees. A vault
// may be bound to a target (a Vault KV v2 mount, a Scaleway-compatible
// Secret Manager) to which the engine's sync job deploys every version.
// The package owns the wire format only: flat JSON in, bare JSON out,
// IMCO's two error bodies, and the status of each coffer error code. Every
// rule lives in the engine. See README.md for what is supported and every
// decision where IMCO's documentation is silent.
package imco

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
	coffer.AuthService
	coffer.KeyVaultService

	// AccessVersion returns a version's data to a caller with the right to
	// read values. Returns ENOTFOUND, EPRECONDITION, EFORBIDDEN.
	AccessVersion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Secret, *coffer.Version, coffer.Payload, error)
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

// Handler serves the user API at its mount, "/v3".
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
				err = errNoCredential
			}
			h.writeError(r.Context(), w, err)
		},
	})
	h.mux = h.routes()
	return h
}

// routes returns the user API's routes, relative to /v3. Each pattern takes
// every method, so that a wrong method answers 405 in this dialect's
// format.
func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	route := func(pattern string, methods map[string]func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, h.wrap(func(w http.ResponseWriter, r *http.Request) error {
			if fn, ok := methods[r.Method]; ok {
				return fn(w, r)
			}
			allowed := make([]string, 0, len(methods))
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
				if _, ok := methods[m]; ok {
					allowed = append(allowed, m)
				}
			}
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			return errMethod
		}))
	}
	type m = map[string]func(http.ResponseWriter, *http.Request) error
	route("/secret/key_vaults", m{"GET": h.listKeyVaults, "POST": h.createKeyVault})
	route("/secret/key_vaults/{id}", m{"GET": h.getKeyVault, "PUT": h.updateKeyVault, "DELETE": h.deleteKeyVault})
	route("/secret/key_vaults/{id}/secrets", m{"GET": h.listSecrets, "POST": h.createSecret})
	route("/secret/key_vaults/{id}/import", m{"PUT": h.importKeyVault})
	route("/secret/secrets/{id}", m{"GET": h.getSecret, "PUT": h.updateSecret, "DELETE": h.deleteSecret})
	route("/secret/secrets/{id}/retry", m{"PUT": h.retrySecret})
	route("/secret/secrets/{id}/discard", m{"DELETE": h.discardSecret})
	route("/secret/secrets/{id}/versions", m{"GET": h.listVersions, "POST": h.createVersion})
	route("/labels", m{"GET": h.listLabels, "POST": h.createLabel})
	route("/labels/{id}/resources", m{"POST": h.labelResources})
	route("/labels/{id}/resources/{type}/{rid}", m{"DELETE": h.unlabelResource})
	mux.Handle("/", h.wrap(func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
	return mux
}

// ServeHTTP serves a request whose path is relative to the mount.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Agent returns the handler of the agent API, mounted at "/secret": the
// route a host's blueprint scripts fetch secret content from.
func (h *Handler) Agent() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/secret_versions/{id}", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			return errMethod
		}
		return h.retrieveVersion(w, r)
	}))
	mux.Handle("/", h.wrap(func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
	return mux
}

// WriteBadPath answers a path with ".", ".." or empty segments.
func (h *Handler) WriteBadPath(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, errUncleanPath)
}

// WriteInternalError answers with a 500 in IMCO's format.
func (h *Handler) WriteInternalError(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, &coffer.Error{Code: coffer.EINTERNAL, Message: "the request could not be recorded in the audit trail"})
}

// wrap bounds the body, authenticates the caller and writes the handler's
// error, if any, in IMCO's format.
func (h *Handler) wrap(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return h.auth.Handler(h.maxBody, nil, fn, h.writeErr)
}

// writeErr is writeError as auth.Handler takes it.
func (h *Handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(r.Context(), w, err)
}
