package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
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

// serveMount serves a request that a mount owns. Its response is held
// until its audit record is durable: the handler writes into a buffer; the
// record is written; only then is the buffer sent, or, when the record
// could not be written, a 500 in the dialect's format instead. The buffer,
// which may hold secret values, is zeroed once sent. r is the request the
// mount's handler gets (see route): its Pattern is the route that served
// it.
func (s *Server) serveMount(w http.ResponseWriter, r *http.Request, m *mount, h http.Handler, start time.Time) {
	// The request's work ends when its client leaves (net/http ends the
	// context) or when no answer could be written any more.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	// Announce the record (see Config.AuditExpect); release is idempotent,
	// and also runs if the handler aborts the request.
	release := func() {}
	if s.cfg.AuditExpect != nil {
		release = s.cfg.AuditExpect()
	}
	defer release()
	entry := &coffer.AuditEntry{}
	r = r.WithContext(coffer.NewContextWithAuditEntry(ctx, entry))
	if s.cfg.Audit != nil {
		// The record of a change commits with it (coffer.AuditEntry.
		// SetDraft): as far as the engine knows, the change succeeds.
		entry.SetDraft(func() *coffer.AuditRecord { return auditRecord(r, m, entry, 0, start) })
	}

	buf := newBufferedResponse(w)
	defer buf.release()
	// A handler whose response is too large to hold (a backup) streams
	// it: its record is written first, as that of an answer of 200.
	buf.startStream = func() error {
		release()
		if s.cfg.Audit == nil {
			return nil
		}
		rec := auditRecord(r, m, entry, http.StatusOK, start)
		rec.Staged = entry.Staged()
		return s.cfg.Audit(context.WithoutCancel(ctx), rec)
	}
	panicked := s.recovered(r, func() { h.ServeHTTP(buf, r) })
	if buf.streaming {
		// The record and the status went out as the stream started; a
		// stream that failed midway ends without its last bytes, which
		// its reader detects (a dump's end, internal/backup).
		s.logRequest(r, http.StatusOK, start)
		return
	}
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	if panicked {
		buf.reset()
		buf.status = http.StatusInternalServerError
	}
	release()
	if s.cfg.Audit != nil {
		rec := auditRecord(r, m, entry, buf.status, start)
		rec.Staged = entry.Staged()
		// What the request did is recorded whether or not its client is
		// still there: a hang-up must not cancel the record.
		if err := s.cfg.Audit(context.WithoutCancel(ctx), rec); err != nil {
			s.cfg.Logger.ErrorContext(ctx, "audit record not written: the request fails",
				"request_id", coffer.RequestIDFromContext(ctx), "error", err)
			buf.dropHeader()
			m.Errors.WriteInternalError(w, r)
			s.finish(r, m, http.StatusInternalServerError, start)
			return
		}
	}
	if panicked {
		m.Errors.WriteInternalError(w, r)
	} else {
		buf.send()
	}
	s.finish(r, m, buf.status, start)
}

// finish counts and logs a request a mount answered with status.
func (s *Server) finish(r *http.Request, m *mount, status int, start time.Time) {
	if s.cfg.Metrics != nil {
		s.routeMetrics(r, m).Observe(status, time.Since(start))
	}
	s.logRequest(r, status, start)
}

// logRequest writes the access log line of a request, at debug level: the
// audit trail records every request a mount serves already, and a line per
// request costs the busy server a measurable share of its CPU.
func (s *Server) logRequest(r *http.Request, status int, start time.Time) {
	if !s.cfg.Logger.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	p := r.URL.Path
	if !cleanPath(p) {
		p = "(not clean)"
	}
	s.cfg.Logger.DebugContext(r.Context(), "request", "request_id", coffer.RequestIDFromContext(r.Context()),
		"method", r.Method, "path", p, "status", status, "duration", time.Since(start), "remote", r.RemoteAddr)
}

// auditRecord describes a served request. The action is the route the
// mount's mux matched on r; project, secret, path and revision are what
// the engine resolved (coffer.AuditFacts), never words of the request; the
// caller is the one the request authenticated as. Nothing from the body,
// the query string or the credentials.
func auditRecord(r *http.Request, m *mount, entry *coffer.AuditEntry, status int, start time.Time) *coffer.AuditRecord {
	f := entry.Facts()
	rec := &coffer.AuditRecord{
		Time:      start,
		Dialect:   m.Name,
		Action:    r.Method + " " + routeOf(r, m),
		ProjectID: bound(f.ProjectID, maxAuditField),
		SecretID:  bound(f.SecretID, maxAuditField),
		Path:      bound(f.Path, maxAuditField),
		Revision:  bound(f.Revision, maxAuditField),
		Status:    status,
		Outcome:   coffer.AuditOutcomeOf(status),
		RequestID: coffer.RequestIDFromContext(r.Context()),
		Source:    sourceOf(r),
		UserAgent: bound(r.UserAgent(), maxAuditUserAgent),
	}
	if status == 0 {
		// The draft of a change, written in its transaction: it holds
		// no answer yet, and records the change as done.
		rec.Outcome = coffer.AuditOK
	} else if rec.Outcome != coffer.AuditOK {
		rec.ErrorCode = entry.ErrorCode()
	} else if code := entry.ErrorCode(); code != "" {
		// The dialect answered a refusal as a success, as its vendor
		// does (a Vault delete of a key the caller may not see is a
		// 204): the record says what the engine said.
		rec.ErrorCode, rec.Outcome = code, coffer.AuditOutcomeOfCode(code)
	}
	if c := entry.Caller(); c != nil {
		if c.Principal != nil {
			rec.OrganizationID, rec.PrincipalID = c.Principal.OrganizationID, c.Principal.ID
		}
		rec.AccessKey, rec.CertificateSerial = c.AccessKey, c.CertificateSerial
		// A request that resolved no project (a listing of nothing, a
		// refusal) is the caller's business in its own project.
		if rec.ProjectID == "" {
			rec.ProjectID = c.ProjectScope
		}
		if rec.ProjectID == "" {
			rec.ProjectID = c.DefaultProjectID
		}
	}
	return rec
}

// routeOf returns the route that served r, below and with the mount's
// prefix ("/v1/secret/data/{path...}"), or "(not clean)" for a path the
// server refused.
func routeOf(r *http.Request, m *mount) string {
	if !cleanPath(r.URL.Path) {
		return "(not clean)"
	}
	p := r.Pattern
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[i+1:]
	}
	p = strings.TrimSuffix(p, "{$}")
	if p == "" || p == "/" {
		return m.Prefix
	}
	return m.Prefix + p
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
	w      http.ResponseWriter
	status int
	body   *bytes.Buffer
	// startStream writes the record of a response that streams (see
	// Streamer); streaming is set once it did.
	startStream func() error
	streaming   bool
	rc          *http.ResponseController
}

// maxPooledBody is the largest body buffer that goes back to the pool:
// a rare large response should not pin its memory.
const maxPooledBody = 64 << 10

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Streamer is the ability of a mount's response writer to send its
// response as it is written rather than once the handler returns. Stream
// writes the request's audit record (as that of a response of status 200),
// sends the status and the headers set so far, and makes every later Write
// go to the client, each with a fresh write deadline of StreamWriteTimeout.
// When the record cannot be written, Stream returns its error and the
// response stays held.
type Streamer interface {
	Stream() error
}

// StreamWriteTimeout bounds each write of a streamed response: a client
// that stops reading for that long is cut off.
const StreamWriteTimeout = time.Minute

func (b *bufferedResponse) Stream() error {
	if b.streaming {
		return nil
	}
	if err := b.startStream(); err != nil {
		return err
	}
	b.streaming = true
	b.rc = http.NewResponseController(b.w)
	_ = b.rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
	b.status = http.StatusOK
	b.w.WriteHeader(http.StatusOK)
	if b.body.Len() > 0 {
		if _, err := b.w.Write(b.body.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

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
	if b.streaming {
		_ = b.rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
		n, err := b.w.Write(p)
		if err == nil {
			err = b.rc.Flush()
		}
		return n, err
	}
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
