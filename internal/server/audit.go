package server

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dev/coffer"
)

// Bounds of the request fields an audit record copies.
const (
	maxAuditField     = 256
	maxAuditUserAgent = 512
)

// owner returns the dialect that serves a path, or nil: only requests that
// reach a dialect are audited, not the operational endpoints.
func (s *Server) owner(p string) *namedDialect {
	for _, d := range s.namedDialects() {
		if o, ok := d.Dialect.(interface{ OwnsPath(string) bool }); ok && o.OwnsPath(p) {
			return &d
		}
	}
	return nil
}

// serveAudited serves a request whose response is held until its audit
// record is durable. The handler writes into a buffer; the record is
// written; only then is the buffer sent, or, when the record could not be
// written, a 500 in the dialect's format instead. The buffer, which may hold
// secret values, is zeroed once sent.
func (s *Server) serveAudited(w http.ResponseWriter, r *http.Request, next http.Handler, d *namedDialect, start time.Time) {
	ctx := r.Context()
	// Announce the record (see Config.AuditExpect); release is idempotent,
	// and also runs if the handler aborts the request.
	release := func() {}
	if s.cfg.AuditExpect != nil {
		release = s.cfg.AuditExpect()
	}
	defer release()
	id := coffer.RequestIDFromContext(ctx)
	entry := &coffer.AuditEntry{}
	entry.SetCaller(coffer.CallerFromContext(ctx))
	r = r.WithContext(coffer.NewContextWithAuditEntry(ctx, entry))

	buf := newBufferedResponse(w)
	defer buf.release()
	if !s.serveBuffered(buf, r, next) {
		buf.reset()
		buf.status = http.StatusInternalServerError
	}
	rec := auditRecord(r, d.name, entry.Caller(), buf.status, start)
	if rec.Outcome != coffer.AuditOK {
		rec.ErrorCode = entry.ErrorCode()
	}
	release()
	if err := s.cfg.Audit(ctx, rec); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "audit record not written: the request fails", "request_id", id, "error", err)
		buf.dropHeader()
		s.writeInternalError(w, r, d.Dialect)
		s.logRequest(r, http.StatusInternalServerError, start)
		return
	}
	if buf.panicked {
		buf.dropHeader()
		s.writeInternalError(w, r, d.Dialect)
	} else {
		buf.send()
	}
	s.logRequest(r, buf.status, start)
}

// serveBuffered runs the handler into buf, and reports false if it
// panicked.
func (s *Server) serveBuffered(buf *bufferedResponse, r *http.Request, next http.Handler) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Logger.ErrorContext(r.Context(), "panic serving request", "request_id", coffer.RequestIDFromContext(r.Context()),
				"panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
			buf.panicked = true
			ok = false
		}
	}()
	next.ServeHTTP(buf, r)
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	return true
}

func (s *Server) logRequest(r *http.Request, status int, start time.Time) {
	p := r.URL.Path
	if !cleanPath(p) {
		p = "(not clean)"
	}
	s.cfg.Logger.InfoContext(r.Context(), "request", "request_id", coffer.RequestIDFromContext(r.Context()),
		"method", r.Method, "path", p, "status", status, "duration", time.Since(start), "remote", r.RemoteAddr)
}

// writeInternalError answers with a 500 in the dialect's format, or as a
// plain JSON error. Headers the handler set are not sent.
func (s *Server) writeInternalError(w http.ResponseWriter, r *http.Request, d Dialect) {
	if ie, ok := d.(InternalErrorWriter); ok {
		ie.WriteInternalError(w, r)
		return
	}
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`{"message":"internal error","type":"internal_error"}`))
}

// auditRecord describes a served request. Action and resource come from
// the route the mux matched on r, the caller from the entry the engine
// filled. Nothing from the body, the query string or the credentials.
func auditRecord(r *http.Request, dialect string, c *coffer.Caller, status int, start time.Time) *coffer.AuditRecord {
	rec := &coffer.AuditRecord{
		Time:      start,
		Dialect:   dialect,
		Action:    r.Method + " " + routeOf(r),
		SecretID:  bound(r.PathValue("secret_id"), maxAuditField),
		Path:      bound(r.PathValue("path"), maxAuditField),
		Revision:  bound(r.PathValue("revision"), maxAuditField),
		Status:    status,
		Outcome:   coffer.AuditOutcomeOf(status),
		RequestID: coffer.RequestIDFromContext(r.Context()),
		Source:    sourceOf(r),
		UserAgent: bound(r.UserAgent(), maxAuditUserAgent),
		ProjectID: bound(r.PathValue("okmsId"), maxAuditField),
	}
	if rec.ProjectID == "" && r.URL != nil {
		rec.ProjectID = bound(r.URL.Query().Get("project_id"), maxAuditField)
	}
	if c != nil {
		if c.Principal != nil {
			rec.OrganizationID, rec.PrincipalID = c.Principal.OrganizationID, c.Principal.ID
		}
		rec.AccessKey, rec.CertificateSerial = c.AccessKey, c.CertificateSerial
		if rec.ProjectID == "" {
			rec.ProjectID = c.ProjectScope
		}
		if rec.ProjectID == "" {
			rec.ProjectID = c.DefaultProjectID
		}
	}
	return rec
}

// routeOf returns the path of the pattern that matched r, without its
// method, or "(no route)".
func routeOf(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		if !cleanPath(r.URL.Path) {
			return "(not clean)"
		}
		return "(no route)"
	}
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// sourceOf returns the client's address without its port.
func sourceOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return bound(r.RemoteAddr, maxAuditField)
}

func bound(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// bufferedResponse holds a response until its audit record is written.
// The handler sets its headers on the real writer, which sends none of
// them before WriteHeader; the status and the body wait here. Bodies come
// from a pool and are zeroed before they go back, as they may hold secret
// values.
type bufferedResponse struct {
	w        http.ResponseWriter
	status   int
	body     *bytes.Buffer
	panicked bool
}

// maxPooledBody is the largest body buffer that goes back to the pool:
// a rare large response should not pin its memory.
const maxPooledBody = 64 << 10

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func newBufferedResponse(w http.ResponseWriter) *bufferedResponse {
	return &bufferedResponse{w: w, body: bodyPool.Get().(*bytes.Buffer)}
}

func (b *bufferedResponse) Header() http.Header { return b.w.Header() }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// send writes the held response.
func (b *bufferedResponse) send() {
	b.w.WriteHeader(b.status)
	_, _ = b.w.Write(b.body.Bytes())
}

// reset drops what the handler wrote: its body and its headers.
func (b *bufferedResponse) reset() {
	b.zero()
	b.body.Reset()
	b.dropHeader()
}

// dropHeader removes the headers the handler set, keeping the request id
// the server set before it.
func (b *bufferedResponse) dropHeader() {
	h := b.w.Header()
	id := h["X-Request-Id"]
	clear(h)
	if id != nil {
		h["X-Request-Id"] = id
	}
}

// zero overwrites the held body, which may hold secret values.
func (b *bufferedResponse) zero() {
	p := b.body.Bytes()
	clear(p[:cap(p)])
}

// release zeroes the body and returns its buffer to the pool.
func (b *bufferedResponse) release() {
	b.zero()
	if b.body.Cap() <= maxPooledBody {
		b.body.Reset()
		bodyPool.Put(b.body)
	}
	b.body = nil
}
