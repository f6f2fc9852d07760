// Package scaleway serves the Scaleway Secret Manager API v1beta1 over the
// coffer engine, so that the official SDKs, the scw CLI, the Terraform
// provider and External Secrets work against coffer unchanged.
//
// It owns the wire format only: request decoding, response shapes, the
// status code and error body of each coffer error code. Every rule lives in
// the engine. See README.md for what is supported and where it deviates from
// the real service.
package scaleway

import (
	"context"
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
}

// Config configures the dialect.
type Config struct {
	Service Service
	// Regions are the region names served; others answer 404.
	Regions []string
	// MaxBodySize bounds request bodies; 1 MiB when 0.
	MaxBodySize int64
	Logger      *slog.Logger
	// Limiter, when set, applies rate limits and the throttling of
	// failed authentications to the routes that authenticate.
	Limiter *limit.Limiter
}

// Handler serves the API, mounted at "/secret-manager" (the paths below
// are relative to it).
type Handler struct {
	svc     Service
	regions map[string]bool
	maxBody int64
	log     *slog.Logger
	auth    *auth.Authenticator
	mux     *http.ServeMux
}

// New returns a Handler.
func New(cfg Config) *Handler {
	h := &Handler{svc: cfg.Service, regions: map[string]bool{}, maxBody: cfg.MaxBodySize, log: cfg.Logger}
	for _, r := range cfg.Regions {
		h.regions[r] = true
	}
	if h.maxBody <= 0 {
		h.maxBody = 1 << 20
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.auth = auth.New(auth.Config{
		Service: cfg.Service,
		Limiter: cfg.Limiter,
		Schemes: []auth.Scheme{auth.ClientCertificate, auth.XAuthToken},
		Fail:    func(w http.ResponseWriter, r *http.Request, err error) { h.writeError(r.Context(), w, err) },
	})
	h.mux = h.routes()
	return h
}

// regionPrefix is where the API's routes live, below the mount; the
// region follows.
const regionPrefix = "/v1beta1/regions/{region}"

// routes returns the API's routes. Unknown paths answer in this dialect's
// format.
func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	routes := []struct {
		pattern string
		fn      func(w http.ResponseWriter, r *http.Request) error
	}{
		{"POST /secrets", h.createSecret},
		{"GET /secrets", h.listSecrets},
		{"GET /secrets/browse", h.browseSecrets},
		{"GET /secrets/{secret_id}", h.getSecret},
		{"PATCH /secrets/{secret_id}", h.updateSecret},
		{"DELETE /secrets/{secret_id}", h.deleteSecret},
		{"POST /secrets/{secret_id}/protect", h.protectSecret},
		{"POST /secrets/{secret_id}/unprotect", h.unprotectSecret},
		{"POST /secrets/{secret_id}/add-owner", h.addSecretOwner},
		{"POST /secrets/{secret_id}/restore", h.restoreSecret},
		{"POST /secrets/{secret_id}/versions", h.createVersion},
		{"GET /secrets/{secret_id}/versions", h.listVersions},
		{"GET /secrets/{secret_id}/versions/{revision}", h.getVersion},
		{"PATCH /secrets/{secret_id}/versions/{revision}", h.updateVersion},
		{"DELETE /secrets/{secret_id}/versions/{revision}", h.deleteVersion},
		{"GET /secrets/{secret_id}/versions/{revision}/access", h.accessVersion},
		{"POST /secrets/{secret_id}/versions/{revision}/enable", h.enableVersion},
		{"POST /secrets/{secret_id}/versions/{revision}/disable", h.disableVersion},
		{"POST /secrets/{secret_id}/versions/{revision}/restore", h.restoreVersion},
		{"GET /secrets-by-path/versions/{revision}/access", h.accessVersionByPath},
		{"GET /tags", h.listTags},
		{"GET /secret-types", h.listSecretTypes},
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		mux.Handle(method+" "+regionPrefix+path, h.wrap(rt.fn))
	}
	mux.Handle("/", h.wrap(func(http.ResponseWriter, *http.Request) error {
		return &coffer.Error{Code: coffer.ENOTFOUND, Message: "no such route", Resource: "route"}
	}))
	return mux
}

// ServeHTTP serves a request whose path is relative to the mount.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Metadata serves the gateway's metadata call (mounted at "/metadata"),
// which needs no credential.
func (h *Handler) Metadata() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.metadata)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(r.Context(), w, &coffer.Error{Code: coffer.ENOTFOUND, Message: "no such route", Resource: "route"})
	})
	return mux
}

// wrap checks the region, bounds the body, authenticates the caller and
// writes the handler's error, if any, in the service's format.
func (h *Handler) wrap(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return h.auth.Handler(h.maxBody, func(r *http.Request) error {
		if region := r.PathValue("region"); region != "" && !h.regions[region] {
			return coffer.NotFound("region", region)
		}
		return nil
	}, fn, h.writeErr)
}

// writeErr is writeError as auth.Handler takes it.
func (h *Handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(r.Context(), w, err)
}

// WriteBadPath answers a path with ".", ".." or empty segments.
func (h *Handler) WriteBadPath(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, coffer.Invalid("path", coffer.ReasonFormat,
		"the request path must not contain '.', '..' or empty segments"))
}

// WriteInternalError answers with a 500 in the service's format: the server
// uses it when a request's audit record cannot be written.
func (h *Handler) WriteInternalError(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, &coffer.Error{Code: coffer.EINTERNAL, Message: "the request could not be recorded in the audit trail"})
}

// metadata answers the gateway call the Go SDK makes to build resource names.
func (h *Handler) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"platform": "external", "partition": "scw", "domain": "scw.eu"})
}

// region returns the request's region.
func region(r *http.Request) string { return r.PathValue("region") }

// defaultProject returns the project named in the request, or the caller's
// default project.
func defaultProject(ctx context.Context, projectID string) string {
	if projectID != "" {
		return projectID
	}
	if c := coffer.CallerFromContext(ctx); c != nil {
		return c.DefaultProjectID
	}
	return ""
}
