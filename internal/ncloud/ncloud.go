// Package ncloud serves NAVER Cloud Platform's Secret Manager API (the
// management API under /api/v1 and the rotation process control API under
// /action/v1, also under the /secretmanager prefix of NAVER's regional
// hosts) over the coffer engine, so that a program written for
// secretmanager.apigw.ntruss.com works against coffer by changing its base
// URL.
//
// Requests are signed with API Gateway signature v2: the access key is a
// coffer API key's access key, and the signing key its secret key, so that
// one credential works in every dialect. The dialect only extracts the
// headers and builds the signed string; the engine checks the time, the key
// and the signature (coffer.SignatureService). A NAVER secret is a coffer
// key_value secret, its stages the engine's version stages, its status the
// secret's state: every rule lives in the engine. See README.md for what is
// supported and every decision where NAVER's documentation is silent.
package ncloud

import (
	"log/slog"
	"net/http"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/auth"
	"github.com/coffer-dev/coffer/internal/limit"
)

// Service is what this dialect needs of the engine.
type Service interface {
	coffer.SecretService
	coffer.AuthService
	coffer.SignatureService
	coffer.ChainService
	coffer.SecretStatusService
	coffer.RotationService
	coffer.AutoRotationService
	coffer.TriggerService
	coffer.SecretLogService
	coffer.ProtectionKeyService
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

// Handler serves the management API at its mounts, "/api/v1" and
// "/secretmanager/api/v1" (the paths below are relative to them); Action
// serves the rotation process control API.
type Handler struct {
	svc     Service
	maxBody int64
	log     *slog.Logger
	auth    *auth.Authenticator
	mux     *http.ServeMux
	action  *http.ServeMux
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
		Schemes: []auth.Scheme{auth.Signed("NAVER signature v2", h.verify)},
		Fail: func(w http.ResponseWriter, r *http.Request, err error) {
			if coffer.ErrorCode(err) == coffer.ETOOMANY {
				h.writeError(r.Context(), w, err)
				return
			}
			// Whatever was wrong, and whether anything was sent at
			// all, the answer is the same.
			h.writeError(r.Context(), w, errUnauthorized)
		},
	})
	h.mux = h.routes()
	h.action = h.actionRoutes()
	return h
}

// routes returns the management API's routes. Methods are part of the
// patterns; the catch-all answers every other request in NAVER's format.
func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /secrets", h.wrap(h.listSecrets))
	mux.Handle("POST /secrets", h.wrap(h.createSecret))
	mux.Handle("GET /secrets/{id}", h.wrap(h.getSecret))
	mux.Handle("DELETE /secrets/{id}", h.wrap(h.deleteSecret))
	mux.Handle("GET /secrets/{id}/values", h.wrap(h.readChain))
	mux.Handle("GET /secrets/{id}/logs", h.wrap(h.listLogs))
	mux.Handle("POST /secrets/{id}/enable-auto-rotation", h.wrap(h.enableAutoRotation))
	mux.Handle("POST /secrets/{id}/disable-auto-rotation", h.wrap(h.disableAutoRotation))
	mux.Handle("PUT /secrets/{id}/rotation-period", h.wrap(h.setRotationPeriod))
	mux.Handle("PUT /secrets/{id}/triggers", h.wrap(h.linkTrigger))
	mux.Handle("DELETE /secrets/{id}/triggers", h.wrap(h.unlinkTrigger))
	mux.Handle("PUT /secrets/{id}/values", h.wrap(h.writeChain))
	mux.Handle("PUT /secrets/{id}/values/{stage}", h.wrap(h.writeStage))
	mux.Handle("GET /secrets/{id}/{stage}", h.wrap(h.readStage))
	mux.Handle("PUT /secrets/{id}/memo", h.wrap(h.updateMemo))
	mux.Handle("PUT /secrets/{id}/protection-key", h.wrap(h.changeProtectionKey))
	mux.Handle("POST /secrets/{id}/enable", h.wrap(h.move(h.svc.EnableSecret)))
	mux.Handle("POST /secrets/{id}/disable", h.wrap(h.move(h.svc.DisableSecret)))
	mux.Handle("POST /secrets/{id}/request-deletion", h.wrap(h.move(h.svc.RequestSecretDeletion)))
	mux.Handle("POST /secrets/{id}/cancel-deletion", h.wrap(h.move(h.svc.CancelSecretDeletion)))
	mux.Handle("POST /secrets/{id}/rotation", h.wrap(h.executeRotation))
	mux.Handle("POST /secrets/{id}/cancel-rotation", h.wrap(h.cancelRotation))
	mux.Handle("POST /secrets/{id}/retry-rotation", h.wrap(h.retryRotation))
	mux.Handle("POST /secrets/{id}/rollback-rotation", h.wrap(h.rollbackRotation))
	mux.Handle("GET /keys", h.wrap(h.listKeys))
	mux.Handle("GET /triggers", h.wrap(h.listTriggers))
	mux.Handle("/", h.wrap(func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
	return mux
}

// actionRoutes returns the routes of the rotation process control API.
func (h *Handler) actionRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("POST /secrets/{id}/jobs/{job}/start", h.wrap(h.startJob))
	mux.Handle("POST /secrets/{id}/jobs/{job}/pending", h.wrap(h.addPending))
	mux.Handle("PUT /secrets/{id}/jobs/{job}/pending", h.wrap(h.updatePending))
	mux.Handle("POST /secrets/{id}/jobs/{job}/generate-random-secret", h.wrap(h.generateRandom))
	mux.Handle("POST /secrets/{id}/jobs/{job}/complete", h.wrap(h.completeJob))
	mux.Handle("POST /secrets/{id}/jobs/{job}/fail", h.wrap(h.failJob))
	mux.Handle("/", h.wrap(func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
	return mux
}

// ServeHTTP serves a request of the management API whose path is relative
// to the mount.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Action returns the handler of the rotation process control API, mounted
// at "/action/v1" and "/secretmanager/action/v1".
func (h *Handler) Action() http.Handler { return h.action }

// WriteBadPath answers a path with ".", ".." or empty segments, which the
// server refuses before routing.
func (h *Handler) WriteBadPath(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, errUncleanPath)
}

// WriteInternalError answers with a 500 in NAVER's format: the server uses
// it when a request's audit record cannot be written.
func (h *Handler) WriteInternalError(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, &coffer.Error{Code: coffer.EINTERNAL, Message: "the request could not be recorded in the audit trail"})
}

// wrap bounds the body, authenticates the caller (every route, the unknown
// ones included, as NAVER's gateway does) and writes the handler's error,
// if any, in NAVER's format.
func (h *Handler) wrap(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return h.auth.Handler(h.maxBody, nil, fn, h.writeErr)
}

// writeErr is writeError as auth.Handler takes it.
func (h *Handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(r.Context(), w, err)
}
