// Package server is coffer's one HTTP server: it mounts every dialect in one
// routes function, adds what all requests share (request ids, access logs,
// panic recovery) and the operational endpoints, and shuts down gracefully.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

// Dialect is an API that mounts its routes.
type Dialect interface {
	Register(mux *http.ServeMux)
}

// BadPathWriter is implemented by dialects that answer a malformed request
// path in their own error format.
type BadPathWriter interface {
	// OwnsPath reports whether the dialect serves this path.
	OwnsPath(path string) bool
	// WriteBadPath answers a request whose path is not clean.
	WriteBadPath(w http.ResponseWriter, r *http.Request)
}

// InternalErrorWriter is implemented by dialects that answer a fault of the
// server in their own error format. The server uses it when a request's
// audit record cannot be written: the request then fails, and nothing the
// handler produced is sent.
type InternalErrorWriter interface {
	// WriteInternalError answers with a 500.
	WriteInternalError(w http.ResponseWriter, r *http.Request)
}

// Config configures a Server.
type Config struct {
	// Addr is the address to listen on, e.g. "127.0.0.1:8080".
	Addr string
	// Scaleway serves the Scaleway Secret Manager API.
	Scaleway Dialect
	// OKMS serves the OVHcloud OKMS secret API v2 under /api/{okmsId}/v2.
	OKMS Dialect
	// VaultKV serves the HashiCorp Vault KV v2 API under /v1.
	VaultKV Dialect
	// Admin serves coffer's own API under /coffer/v1.
	Admin Dialect
	// Ready reports whether the node can serve (its store answers).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger

	// TLSAddr, when set, is a second listener that speaks TLS with
	// TLSConfig and accepts client certificates it verifies.
	TLSAddr   string
	TLSConfig *tls.Config
	// CertAuth authenticates a verified client certificate. A request whose
	// certificate it accepts carries that caller; one it refuses goes on
	// unauthenticated, and the dialect answers in its own format.
	CertAuth func(ctx context.Context, cert *x509.Certificate) (*coffer.Caller, error)

	// Audit, when set, makes every request that a dialect owns yield one
	// audit record, written through Audit before the response is sent: the
	// handler's response is held until Audit returns nil, and replaced by
	// a 500 in the dialect's format when it fails. See audit.go.
	Audit func(ctx context.Context, rec *coffer.AuditRecord) error
	// AuditExpect, when set, is called as an audited request starts, to
	// announce the record it will write: a group-committing writer can
	// then wait for the records of the requests under way and commit them
	// together. The request calls release just before Audit, or when it
	// ends without writing.
	AuditExpect func() (release func())
}

// Server serves coffer over HTTP.
type Server struct {
	cfg     Config
	handler http.Handler
	srv     *http.Server
	ln      net.Listener
	done    chan error

	tlsSrv  *http.Server
	tlsLn   net.Listener
	tlsDone chan error
}

// New returns a server; Open starts it.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg}
	s.handler = s.middleware(s.routes())
	return s
}

// routes mounts every dialect and the operational endpoints.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, d := range s.dialects() {
		d.Register(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.cfg.Ready(ctx); err != nil {
				s.cfg.Logger.WarnContext(ctx, "not ready", "error", err)
				writeStatus(w, http.StatusServiceUnavailable, "unavailable")
				return
			}
		}
		writeStatus(w, http.StatusOK, "ok")
	})
	return mux
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `{"status":%q}`, status)
}

// Handler returns the server's handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Open listens and serves in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln, s.srv, s.done = ln, s.newHTTPServer(), make(chan error, 1)
	go serve(s.srv, ln, s.done)
	if s.cfg.TLSAddr != "" {
		tln, err := net.Listen("tcp", s.cfg.TLSAddr)
		if err != nil {
			return errors.Join(fmt.Errorf("listen on %s: %w", s.cfg.TLSAddr, err), s.Close(context.Background()))
		}
		s.tlsLn, s.tlsSrv, s.tlsDone = tls.NewListener(tln, s.cfg.TLSConfig), s.newHTTPServer(), make(chan error, 1)
		s.tlsSrv.TLSConfig = s.cfg.TLSConfig
		go serve(s.tlsSrv, s.tlsLn, s.tlsDone)
	}
	return nil
}

func (s *Server) newHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
}

func serve(srv *http.Server, ln net.Listener, done chan<- error) {
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	done <- err
}

// TLSAddr returns the address of the TLS listener, or "".
func (s *Server) TLSAddr() string {
	if s.tlsLn == nil {
		return s.cfg.TLSAddr
	}
	return s.tlsLn.Addr().String()
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// Close stops accepting requests and waits, until ctx ends, for the ones
// under way to finish.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	for _, l := range []struct {
		srv  *http.Server
		done chan error
	}{{s.srv, s.done}, {s.tlsSrv, s.tlsDone}} {
		if l.srv == nil {
			continue
		}
		errs = append(errs, l.srv.Shutdown(ctx), <-l.done)
	}
	return errors.Join(errs...)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// middleware gives every request an id (returned as X-Request-Id), logs it
// without its query string or body, and turns a panic into a 500 whose log
// line carries the stack but no value.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := coffer.NewRequestID()
		w.Header().Set("X-Request-Id", id)
		ctx := coffer.NewContextWithRequestID(r.Context(), id)
		rec := &statusRecorder{ResponseWriter: w}
		if !cleanPath(r.URL.Path) && s.cfg.Audit != nil {
			if d := s.owner(r.URL.Path); d != nil {
				s.serveAudited(w, r.WithContext(ctx), http.HandlerFunc(s.writeBadPath), d, start)
				return
			}
		}
		if !cleanPath(r.URL.Path) {
			// http.ServeMux would answer with a redirect to the cleaned
			// path, which clients follow with the same method: a "..",
			// "." or empty segment could turn an operation on one resource
			// into one on its parent. Refuse instead.
			s.writeBadPath(rec, r.WithContext(ctx))
			s.cfg.Logger.InfoContext(ctx, "request", "request_id", id, "method", r.Method,
				"path", "(not clean)", "status", rec.status, "duration", time.Since(start), "remote", r.RemoteAddr)
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.Logger.ErrorContext(ctx, "panic serving request", "request_id", id,
					"panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					w.Header()["Content-Type"] = []string{"application/json"}
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"message":"internal error","type":"internal_error"}`))
				}
			}
		}()
		if s.cfg.CertAuth != nil && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			if c, err := s.cfg.CertAuth(ctx, r.TLS.VerifiedChains[0][0]); err == nil {
				ctx = coffer.NewContextWithCaller(ctx, c)
			} else if coffer.ErrorCode(err) != coffer.EUNAUTHENTICATED {
				s.cfg.Logger.ErrorContext(ctx, "client certificate check failed", "request_id", id, "error", err)
			}
		}
		if s.cfg.Audit != nil {
			if d := s.owner(r.URL.Path); d != nil {
				s.serveAudited(w, r.WithContext(ctx), next, d, start)
				return
			}
		}
		next.ServeHTTP(rec, r.WithContext(ctx))
		s.cfg.Logger.InfoContext(ctx, "request", "request_id", id, "method", r.Method,
			"path", r.URL.Path, "status", rec.status, "duration", time.Since(start), "remote", r.RemoteAddr)
	})
}

// cleanPath reports whether p is absolute and has no ".", ".." or empty
// segment; one trailing slash is allowed (Vault lists folders with one).
func cleanPath(p string) bool {
	if p == "/" {
		return true
	}
	if p == "" || p[0] != '/' {
		return false
	}
	want := path.Clean(p)
	if strings.HasSuffix(p, "/") && want != "/" {
		want += "/"
	}
	return want == p
}

// writeBadPath answers a request whose path is not clean, in the format of
// the dialect that owns the path, or as a plain JSON error.
func (s *Server) writeBadPath(w http.ResponseWriter, r *http.Request) {
	for _, d := range s.dialects() {
		if bp, ok := d.(BadPathWriter); ok && bp.OwnsPath(r.URL.Path) {
			bp.WriteBadPath(w, r)
			return
		}
	}
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"message":"the request path must not contain '.', '..' or empty segments"}`))
}

// dialects lists the configured dialects.
func (s *Server) dialects() []Dialect {
	var out []Dialect
	for _, d := range s.namedDialects() {
		out = append(out, d.Dialect)
	}
	return out
}

// namedDialect is a dialect with the name audit records give it.
type namedDialect struct {
	name string
	Dialect
}

// namedDialects lists the configured dialects with their names.
func (s *Server) namedDialects() []namedDialect {
	var out []namedDialect
	for _, d := range []namedDialect{
		{"scaleway", s.cfg.Scaleway}, {"okms", s.cfg.OKMS}, {"vaultkv", s.cfg.VaultKV}, {"admin", s.cfg.Admin},
	} {
		if d.Dialect != nil {
			out = append(out, d)
		}
	}
	return out
}
