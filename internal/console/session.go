package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/auth"
)

// The cookies of the console. Both are HttpOnly, SameSite=Strict, limited
// to the console's path, and Secure on the TLS listener.
const (
	// sessionCookie holds the session's token.
	sessionCookie = "coffer_session"
	// loginCookie holds the token that the login form must echo (a
	// double-submit token: a login forged from another site cannot).
	loginCookie = "coffer_login"
	// csrfField is the form field of the CSRF token.
	csrfField = "csrf"
)

// setCookie sets a cookie of the console. It is Secure on the TLS
// listener, and behind a TLS proxy that says so (X-Forwarded-Proto: a
// forged header can only make the cookie stricter).
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"), SameSite: http.SameSiteStrictMode,
	})
}

// csrfToken derives a session's CSRF token from its token: HMAC-SHA256
// keyed by the session token, which only the browser holding the cookie
// knows (the cookie is HttpOnly; a page of another site cannot read it).
// Nothing is stored; a logout ends the token with the session.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("coffer console csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOf returns the CSRF token of r's session, or "".
func csrfOf(r *http.Request) string {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	return csrfToken(ck.Value)
}

// errForgedForm is the answer to a form without the right token.
var errForgedForm = &coffer.Error{Code: coffer.EFORBIDDEN,
	Message: "This form has expired or did not come from this console: reload the page and try again."}

// parseForm parses r's form within the body bound, and turns a body over
// it into a clear refusal.
func (h *Handler) parseForm(r *http.Request) error {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(h.maxBody)
	} else {
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &coffer.Error{Code: coffer.ETOOLARGE, Message: "The form is too large: at most " + sizeOf(h.maxBody) + " may be sent."}
	case err != nil:
		return coffer.Invalid("form", coffer.ReasonFormat, "The form could not be read.")
	}
	return nil
}

// sameOrigin refuses a post that the browser says comes from another
// site, whatever its token: its Sec-Fetch-Site, or an Origin whose host is
// neither the request's nor the one a proxy in front forwarded (a page of
// another site cannot set that header on a form post).
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host && u.Host != r.Header.Get("X-Forwarded-Host") {
			return false
		}
	}
	return true
}

// checkForm is the check of every action: the form is read, comes from
// this console, and carries the CSRF token of the request's session.
func (h *Handler) checkForm(r *http.Request) error {
	if err := h.parseForm(r); err != nil {
		return err
	}
	want := csrfOf(r)
	got := r.PostFormValue(csrfField)
	if !sameOrigin(r) || want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return errForgedForm
	}
	return nil
}

// checkLoginForm is checkForm for the login form, whose token is the
// login cookie's.
func (h *Handler) checkLoginForm(r *http.Request) error {
	if err := h.parseForm(r); err != nil {
		return err
	}
	ck, err := r.Cookie(loginCookie)
	got := r.PostFormValue("login_csrf")
	if !sameOrigin(r) || err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(got)) != 1 {
		return errForgedForm
	}
	return nil
}

// loginView is what the login page shows.
type loginView struct {
	Token string
	// Certificate is true on the TLS listener when the browser presented
	// a verified client certificate.
	Certificate bool
}

// loginPage shows the login form, with a fresh login token.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	h.showLogin(w, r, http.StatusOK, "")
	return nil
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	setCookie(w, r, loginCookie, token, 600)
	h.render(w, r, status, "login", &view{Title: "Log in", Error: msg, anonymous: true, Data: loginView{
		Token:       token,
		Certificate: r.TLS != nil && len(r.TLS.VerifiedChains) > 0,
	}})
}

// createSession exchanges the login's credential for a session.
func (h *Handler) createSession(w http.ResponseWriter, r *http.Request) error {
	replaces := ""
	if ck, err := r.Cookie(sessionCookie); err == nil {
		replaces = ck.Value
	}
	s, err := h.svc.CreateSession(r.Context(), replaces)
	if err != nil {
		return err
	}
	setCookie(w, r, loginCookie, "", -1)
	setCookie(w, r, sessionCookie, s.Token, 0)
	redirect(w, "/")
	return nil
}

// endSession ends the session on the server and drops the cookie.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) error {
	ck, err := r.Cookie(sessionCookie)
	if err == nil {
		if err := h.svc.EndSession(r.Context(), ck.Value); err != nil {
			return err
		}
	}
	setCookie(w, r, sessionCookie, "", -1)
	redirect(w, "/login")
	return nil
}

// failLogin answers a login whose credential was refused: the form again,
// with a message that says nothing of which part was wrong.
func (h *Handler) failLogin(w http.ResponseWriter, r *http.Request, err error) {
	code := coffer.ErrorCode(err)
	coffer.AuditEntryFromContext(r.Context()).SetErrorCode(code)
	if code != coffer.EUNAUTHENTICATED {
		h.writeError(w, r, err)
		return
	}
	msg := "This key is not valid."
	if errors.Is(err, auth.ErrNoCredential) {
		msg = "Enter the secret key of an API key."
	}
	h.showLogin(w, r, http.StatusUnauthorized, msg)
}

// failSession answers a request without a valid session: a page load
// without a session goes to the login page; a refused session (ended,
// expired) or a form post gets the login form with a 401.
func (h *Handler) failSession(w http.ResponseWriter, r *http.Request, err error) {
	code := coffer.ErrorCode(err)
	coffer.AuditEntryFromContext(r.Context()).SetErrorCode(code)
	if code != coffer.EUNAUTHENTICATED {
		h.writeError(w, r, err)
		return
	}
	if errors.Is(err, auth.ErrNoCredential) && r.Method == http.MethodGet {
		redirect(w, "/login")
		return
	}
	setCookie(w, r, sessionCookie, "", -1)
	h.showLogin(w, r, http.StatusUnauthorized, "Your session has ended: log in again.")
}
