// Package console serves coffer's web console under /ui: server-rendered
// pages (html/template, assets embedded with go:embed, a little plain
// JavaScript in one external file) for browsing and changing secrets,
// revealing and comparing versions, the audit trail, IAM, rotation and key
// vault sync.
//
// The console is one more client of the engine, mounted in the routes
// table like the API dialects: every request is audited (dialect
// "console"), and every action is one engine call made as the principal
// who logged in, so it is authorized exactly as the same call through an
// API would be. A login exchanges an API key's secret (or the client
// certificate of the TLS listener) for a server-side session
// (coffer.SessionService); the browser holds the session's token in an
// HttpOnly, SameSite=Strict cookie, and every form that changes something
// carries a CSRF token derived from it (session.go). Pages never hold a
// secret value except the answer to an explicit reveal.
package console

import (
	"bytes"
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/auth"
	"github.com/coffer-dev/coffer/internal/limit"
)

// Service is what the console needs of the engine.
type Service interface {
	coffer.AuthService
	coffer.SessionService
	coffer.SecretService
	coffer.DiffService
	coffer.IAMService
	coffer.AuditService
	coffer.SecretLogService
	// SecretVersions returns a secret, a page of its versions and the
	// caller's rights on it, in one read.
	SecretVersions(ctx context.Context, secretID string, f coffer.VersionFilter) (*coffer.SecretView, error)
	// Rights returns what the caller may do on a project at a path.
	Rights(ctx context.Context, projectID, path string) (coffer.Rights, error)
	EnableAutoRotation(ctx context.Context, secretID string, days int, triggerID string) (*coffer.Secret, error)
	DisableAutoRotation(ctx context.Context, secretID string) (*coffer.Secret, error)
	ExecuteRotation(ctx context.Context, secretID string) (*coffer.RotationTicket, error)
	RetryRotation(ctx context.Context, secretID string) (*coffer.RotationTicket, error)
	ListKeyVaults(ctx context.Context) ([]*coffer.KeyVault, error)
	ListVaultSecrets(ctx context.Context, keyVaultID string) ([]*coffer.VaultSecret, error)
	RetryVaultSecret(ctx context.Context, id string) (*coffer.VaultSecret, error)
}

// Prefix is where the console is mounted; its pages link to each other
// below it.
const Prefix = "/ui"

// Config configures the console.
type Config struct {
	Service Service
	// MaxBodySize bounds request bodies (forms and uploads); 1 MiB when 0.
	MaxBodySize int64
	Logger      *slog.Logger
	// Limiter, when set, applies the rate limits of the APIs to the
	// console: above all the throttling of failed logins per address, so
	// that the login form is no faster a way to guess keys than an API.
	Limiter *limit.Limiter
}

// Handler serves the console at its mount, Prefix.
type Handler struct {
	svc     Service
	maxBody int64
	log     *slog.Logger
	// login authenticates the login form (a key's secret, or the client
	// certificate); session every other route.
	login   *auth.Authenticator
	session *auth.Authenticator
	pages   map[string]*pageTemplate
	static  http.Handler
	mux     *http.ServeMux
}

//go:embed assets
var assets embed.FS

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 1 << 20
	}
	h := &Handler{svc: cfg.Service, maxBody: cfg.MaxBodySize, log: cfg.Logger, pages: parsePages()}
	h.login = auth.New(auth.Config{
		Service: cfg.Service,
		Schemes: []auth.Scheme{auth.FormField("secret_key"), auth.ClientCertificate},
		Fail:    h.failLogin,
		Limiter: cfg.Limiter,
	})
	h.session = auth.New(auth.Config{
		Service: cfg.Service,
		Schemes: []auth.Scheme{auth.Session(sessionCookie, cfg.Service)},
		Fail:    h.failSession,
		Limiter: cfg.Limiter,
	})
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	h.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	h.mux = http.NewServeMux()
	h.routes(h.mux)
	return h
}

// routes mounts the console's routes, relative to Prefix.
func (h *Handler) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /static/{file}", h.serveStatic)
	mux.Handle("GET /login", h.open(h.loginPage))
	mux.Handle("POST /login", h.login.Handler(h.maxBody, h.checkLoginForm, h.createSession, h.writeError))
	mux.Handle("POST /logout", h.action(h.endSession))
	mux.Handle("GET /{$}", h.page(h.projects))
	h.registerSecrets(mux)
	h.registerAudit(mux)
	h.registerIAM(mux)
	h.registerKeyVaults(mux)
	mux.Handle("/", h.open(func(http.ResponseWriter, *http.Request) error {
		return &coffer.Error{Code: coffer.ENOTFOUND, Message: "There is no such page.", Resource: "page"}
	}))
}

// ServeHTTP sets the security headers of every answer, then serves r.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	h.mux.ServeHTTP(w, r)
}

// setSecurityHeaders sets what every answer of the console carries: a
// strict Content-Security-Policy (scripts, styles and images from the
// console only, no inline script, forms posting only to it, no framing),
// no referrer, no sniffing, and no caching: a page may show a value.
func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	// The assets hold no value; they may be cached for a while.
	w.Header().Set("Cache-Control", "max-age=300")
	h.static.ServeHTTP(w, r)
}

// open serves fn without a caller (the login page, unknown paths).
func (h *Handler) open(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
		if err := fn(w, r); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// page serves a page that needs a session.
func (h *Handler) page(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return h.session.Handler(h.maxBody, nil, fn, h.writeError)
}

// action serves a form post that changes something: its form must carry
// the session's CSRF token, checked before anything else.
func (h *Handler) action(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return h.session.Handler(h.maxBody, h.checkForm, fn, h.writeError)
}

// WriteBadPath answers a path with ".", ".." or empty segments.
func (h *Handler) WriteBadPath(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	h.writeError(w, r, coffer.Invalid("path", coffer.ReasonFormat, "The address must not contain '.', '..' or empty segments."))
}

// WriteInternalError answers with a 500.
func (h *Handler) WriteInternalError(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	h.writeError(w, r, coffer.Errorf(coffer.EINTERNAL, "internal error"))
}

// redirect answers a form post with 303 See Other to a console path.
func redirect(w http.ResponseWriter, to string) {
	w.Header().Set("Location", Prefix+to)
	w.WriteHeader(http.StatusSeeOther)
}

// render writes a page: the template runs into a buffer first, so that a
// template error is a clean 500 and never half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := h.pages[name]
	if !ok {
		panic("console: no page " + name)
	}
	v.fill(r)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.ErrorContext(r.Context(), "console page failed", "page", name, "request_id", coffer.RequestIDFromContext(r.Context()), "error", err)
		h.writeError(w, r, coffer.Errorf(coffer.EINTERNAL, "internal error"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	clear(buf.Bytes())
}
