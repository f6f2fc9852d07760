// Package adminapi serves coffer's own API under /coffer/v1, for what no
// vendor dialect has: projects, principals, API keys and policies (iam.go),
// the client certificates of mutual TLS (issue, revoke, the CA to trust), the
// audit trail, export and import of secrets between instances (export.go),
// and an OpenAPI 3 document of it all. It follows the same rules as the dialects: a thin
// decoding layer over the engine, one table from error codes to statuses.
package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/auth"
	"github.com/coffer-dev/coffer/internal/limit"
)

// Service is what the admin API needs of the engine.
type Service interface {
	coffer.AuthService
	coffer.IAMService
	coffer.AuditService
	coffer.TriggerService
	Backuper
	IssueClientCertificate(ctx context.Context, principalID, projectID string, ttl time.Duration) (*coffer.IssuedCertificate, error)
	RevokeCertificate(ctx context.Context, serial string) error
	CACertificatePEM() ([]byte, error)
}

// Handler serves the admin API at its mount, Prefix (the paths below are
// relative to it).
type Handler struct {
	svc Service
	log *slog.Logger
	// system is what GET /system reports (see WithSystem).
	system System
	auth   *auth.Authenticator
	mux    *http.ServeMux
}

// New returns a Handler.
func New(svc Service, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{svc: svc, log: log}
	h.build(nil)
	return h
}

// WithLimiter makes the handler's authenticated routes apply lim (see
// internal/limit) and returns it.
func (h *Handler) WithLimiter(lim *limit.Limiter) *Handler {
	h.build(lim)
	return h
}

func (h *Handler) build(lim *limit.Limiter) {
	h.auth = auth.New(auth.Config{
		Service: h.svc,
		Schemes: []auth.Scheme{auth.ClientCertificate, auth.Bearer},
		Fail:    func(w http.ResponseWriter, r *http.Request, err error) { h.writeError(r.Context(), w, err) },
		Limiter: lim,
	})
	h.mux = http.NewServeMux()
	h.routes(h.mux)
}

// Prefix is where the API is mounted: the OpenAPI document names its paths
// below it.
const Prefix = "/coffer/v1"

// maxBody bounds request bodies: they are small JSON objects.
const maxBody = 64 << 10

// routes mounts the routes on mux. Unknown paths answer in this API's
// format.
func (h *Handler) routes(mux *http.ServeMux) {
	mux.Handle("GET /ca", h.wrap(h.getCA))
	mux.Handle("POST /certificates", h.wrap(h.issueCertificate))
	mux.Handle("DELETE /certificates/{serial}", h.wrap(h.revokeCertificate))
	h.registerAudit(mux)
	h.registerVersions(mux)
	h.registerRotate(mux)
	h.registerIAM(mux)
	h.registerTriggers(mux)
	h.registerKeyVaults(mux)
	h.registerExport(mux)
	h.registerBackup(mux)
	h.registerKeys(mux)
	mux.Handle("/", h.wrap(func(http.ResponseWriter, *http.Request) error {
		return &coffer.Error{Code: coffer.ENOTFOUND, Message: "no such route", Resource: "route"}
	}))
}

// ServeHTTP serves a request whose path is relative to the mount.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// WriteBadPath answers a path with ".", ".." or empty segments.
func (h *Handler) WriteBadPath(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, coffer.Invalid("path", coffer.ReasonFormat, "the request path must not contain '.', '..' or empty segments"))
}

// WriteInternalError answers with a 500 in the service's format: the server
// uses it when a request's audit record cannot be written.
func (h *Handler) WriteInternalError(w http.ResponseWriter, r *http.Request) {
	h.writeError(r.Context(), w, &coffer.Error{Code: coffer.EINTERNAL, Message: "the request could not be recorded in the audit trail"})
}

// wrap bounds the body, authenticates the caller and writes the handler's
// error.
func (h *Handler) wrap(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return h.auth.Handler(maxBody, nil, fn, h.writeErr)
}

// writeErr is writeError as auth.Handler takes it.
func (h *Handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(r.Context(), w, err)
}

func (h *Handler) getCA(w http.ResponseWriter, _ *http.Request) error {
	pemBytes, err := h.svc.CACertificatePEM()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"certificate": string(pemBytes)})
	return nil
}

// IssueRequest asks for a client certificate.
type IssueRequest struct {
	PrincipalID string `json:"principal_id"`
	ProjectID   string `json:"project_id"`
	// TTL is a Go duration ("8760h"); empty means one year.
	TTL string `json:"ttl"`
}

// IssueResponse carries a new client certificate and its private key, shown
// this once.
type IssueResponse struct {
	Serial        string    `json:"serial"`
	NotAfter      time.Time `json:"not_after"`
	Certificate   string    `json:"certificate"`
	PrivateKey    string    `json:"private_key"`
	CACertificate string    `json:"ca_certificate"`
	PrincipalID   string    `json:"principal_id"`
	ProjectID     string    `json:"project_id"`
}

func (h *Handler) issueCertificate(w http.ResponseWriter, r *http.Request) error {
	var req IssueRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	var ttl time.Duration
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil {
			return coffer.Invalid("ttl", coffer.ReasonFormat, "ttl must be a duration such as 720h")
		}
		ttl = d
	}
	issued, err := h.svc.IssueClientCertificate(r.Context(), req.PrincipalID, req.ProjectID, ttl)
	if err != nil {
		return err
	}
	defer clear(issued.KeyPEM)
	caPEM, err := h.svc.CACertificatePEM()
	if err != nil {
		return err
	}
	principal := req.PrincipalID
	if principal == "" {
		principal = coffer.CallerFromContext(r.Context()).Principal.ID
	}
	writeJSON(w, http.StatusCreated, IssueResponse{
		Serial: issued.Serial, NotAfter: issued.NotAfter, Certificate: string(issued.CertPEM),
		PrivateKey: string(issued.KeyPEM), CACertificate: string(caPEM),
		PrincipalID: principal, ProjectID: req.ProjectID,
	})
	return nil
}

func (h *Handler) revokeCertificate(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.RevokeCertificate(r.Context(), r.PathValue("serial")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decode reads one JSON object in UTF-8, refusing unknown fields.
func decode(body io.Reader, v any) error {
	b, err := io.ReadAll(body)
	defer clear(b)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &coffer.Error{Code: coffer.ETOOLARGE, Message: fmt.Sprintf("the request body must be at most %d bytes", mbe.Limit)}
		}
		return coffer.Invalid("body", coffer.ReasonFormat, "the request body could not be read")
	}
	if err := coffer.CheckJSONText(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return coffer.Invalid("body", coffer.ReasonFormat, "the request body must be one JSON object of the documented fields")
	}
	if dec.More() {
		return coffer.Invalid("body", coffer.ReasonFormat, "the request body must be one JSON object")
	}
	return nil
}

// errorStatus maps coffer error codes to statuses.
var errorStatus = map[string]int{
	coffer.EINVALID:         http.StatusBadRequest,
	coffer.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	coffer.ENOTFOUND:        http.StatusNotFound,
	coffer.ECONFLICT:        http.StatusConflict,
	coffer.EPRECONDITION:    http.StatusPreconditionFailed,
	coffer.EUNAUTHENTICATED: http.StatusUnauthorized,
	coffer.EFORBIDDEN:       http.StatusForbidden,
	coffer.EQUOTA:           http.StatusForbidden,
	coffer.EUNAVAILABLE:     http.StatusServiceUnavailable,
	coffer.ETOOMANY:         http.StatusTooManyRequests,
	coffer.EINTERNAL:        http.StatusInternalServerError,
}

type errorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func (h *Handler) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	code := coffer.ErrorCode(err)
	coffer.AuditEntryFromContext(ctx).SetErrorCode(code)
	status, ok := errorStatus[code]
	if !ok {
		status, code = http.StatusInternalServerError, coffer.EINTERNAL
	}
	var body errorJSON
	body.Error.Code, body.Error.Message = code, coffer.ErrorMessage(err)
	if e := coffer.AsError(err); e != nil && len(e.Fields) > 0 {
		body.Error.Field = e.Fields[0].Field
	}
	if status >= 500 {
		h.log.ErrorContext(ctx, "request failed", "dialect", "admin", "request_id", coffer.RequestIDFromContext(ctx), "error", err)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	defer clear(b)
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
