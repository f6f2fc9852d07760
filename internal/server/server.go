// Package server is coffer's one HTTP server: it mounts every dialect from
// one routes table (routes.go), owns what all requests share (request ids,
// refusal of unclean paths, the audit record of every request a mount
// serves, access logs, panic recovery) and the operational endpoints, and
// shuts down gracefully.
package server

import (
	"context"
	"crypto/tls"
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
	"github.com/coffer-dev/coffer/internal/adminapi"
	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/metrics"
)

// Config configures a Server.
type Config struct {
	// Addr is the address to listen on, e.g. "127.0.0.1:8080".
	Addr string
	// Service is the engine that every dialect serves (routes.go).
	Service Service
	// Regions are the Scaleway regions served.
	Regions []string
	// MaxBodySize bounds request bodies of the dialects; 1 MiB when 0.
	MaxBodySize int64
	// System is what the admin API's GET /system reports.
	System adminapi.System
	// Now is the clock of the engine; time.Now when nil.
	Now func() time.Time
	// Ready reports whether the node can serve (its store answers).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger

	// TLSAddr, when set, is a second listener that speaks TLS with
	// TLSConfig and accepts client certificates it verifies; the dialects
	// authenticate them (internal/auth).
	TLSAddr   string
	TLSConfig *tls.Config

	// Audit makes every request that reaches a mount yield one audit
	// record, written through Audit before the response is sent: the
	// handler's response is held until Audit returns nil, and replaced by
	// a 500 in the dialect's format when it fails. See audit.go. It is
	// required unless NoAudit is set.
	Audit func(ctx context.Context, rec *coffer.AuditRecord) error
	// AuditExpect, when set, is called as an audited request starts, to
	// announce the record it will write: a group-committing writer can
	// then wait for the records of the requests under way and commit them
	// together. The request calls release just before Audit, or when it
	// ends without writing.
	AuditExpect func() (release func())
	// NoAudit serves without an audit trail (benchmarks compare with it).
	// Without it, a server without Audit cannot be built.
	NoAudit bool

	// Metrics, when set, counts and times the requests of every mount,
	// and is served at GET /metrics, outside the mounts (metrics.go).
	// MetricsToken, when set, is the bearer token /metrics requires.
	Metrics      *metrics.Registry
	MetricsToken string
	// Limiter, when set, applies rate limits to the dialects' routes that
	// authenticate (internal/limit).
	Limiter *limit.Limiter
	// RequestTimeout bounds the work of a request: its context ends then,
	// as it does when its client leaves, so that a long listing stops
	// when no one can receive its answer. The write timeout of the
	// listeners (30 s) when 0.
	RequestTimeout time.Duration
}

// Server serves coffer over HTTP.
type Server struct {
	cfg     Config
	mounts  []*mount
	ops     *http.ServeMux
	handler http.Handler
	srv     *http.Server
	ln      net.Listener
	done    chan error

	tlsSrv  *http.Server
	tlsLn   net.Listener
	tlsDone chan error
}

// New returns a server that mounts every dialect of the routes table on
// cfg.Service; Open starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("server: no service to serve")
	}
	return build(cfg, routes(cfg))
}

// build returns a server of mounts. It refuses a mount that could not be
// answered or audited: one without a name, a handler or an error writer, a
// malformed or repeated prefix, and any mount at all when the
// configuration has no audit trail and does not say so.
func build(cfg Config, mounts []Mount) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = writeTimeout
	}
	if cfg.Audit == nil && !cfg.NoAudit {
		return nil, errors.New("server: a server without an audit trail must say so (NoAudit)")
	}
	s := &Server{cfg: cfg}
	seen := map[string]bool{}
	for _, m := range mounts {
		mt, err := newMount(m)
		if err != nil {
			return nil, err
		}
		if seen[mt.key] {
			return nil, fmt.Errorf("server: two mounts at %s", m.Prefix)
		}
		seen[mt.key] = true
		s.mounts = append(s.mounts, mt)
	}
	sortMounts(s.mounts)
	s.ops = s.opsRoutes()
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s, nil
}

// opsRoutes serves the operational endpoints, which no dialect owns: they
// are not audited and need no credential.
func (s *Server) opsRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	// Browsers opening the server's address land on the web console.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusFound)
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
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.metricsHandler())
	}
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

// writeTimeout is how long a listener gives a request, from the end of its
// headers to the end of its answer.
const writeTimeout = 30 * time.Second

func (s *Server) newHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
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

// serveHTTP gives every request an id (returned as X-Request-Id), refuses
// a path that is not clean, and hands the request to the mount that owns
// its path (audited, see audit.go) or to the operational endpoints.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := coffer.NewRequestID()
	w.Header().Set("X-Request-Id", id)
	r = r.WithContext(coffer.NewContextWithRequestID(r.Context(), id))
	m, inner := s.route(r)
	if !cleanPath(r.URL.Path) {
		// http.ServeMux would answer with a redirect to the cleaned
		// path, which clients follow with the same method: a "..",
		// "." or empty segment could turn an operation on one resource
		// into one on its parent. Refuse instead, in the format of the
		// dialect whose prefix the path starts with.
		if m != nil {
			s.serveMount(w, r, m, http.HandlerFunc(m.Errors.WriteBadPath), start)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		writeBadPath(rec)
		s.logRequest(r, rec.status, start)
		return
	}
	if m != nil {
		s.serveMount(w, inner, m, m.Handler, start)
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	if s.recovered(r, func() { s.ops.ServeHTTP(rec, r) }) && rec.status == 0 {
		w.Header()["Content-Type"] = []string{"application/json"}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"message":"internal error","type":"internal_error"}`))
	}
	s.logRequest(r, rec.status, start)
}

// recovered runs fn and reports whether it panicked. The panic's value is
// not logged, only its type and the stack: a handler may panic with a
// secret in hand. http.ErrAbortHandler goes on up, as net/http wants.
func (s *Server) recovered(r *http.Request, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Logger.ErrorContext(r.Context(), "panic serving request", "request_id", coffer.RequestIDFromContext(r.Context()),
				"panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
			panicked = true
		}
	}()
	fn()
	return false
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

// writeBadPath answers, as plain JSON, a request whose path is not clean
// and lies outside every mount.
func writeBadPath(w http.ResponseWriter) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"message":"the request path must not contain '.', '..' or empty segments"}`))
}
