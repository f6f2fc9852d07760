package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer-dev/coffer"
)

// errorStatus maps error codes to the console's statuses: the one table.
var errorStatus = map[string]int{
	coffer.EINVALID:         http.StatusBadRequest,
	coffer.EUNAUTHENTICATED: http.StatusUnauthorized,
	coffer.EFORBIDDEN:       http.StatusForbidden,
	coffer.ENOTFOUND:        http.StatusNotFound,
	coffer.ECONFLICT:        http.StatusConflict,
	coffer.EPRECONDITION:    http.StatusConflict,
	coffer.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	coffer.EQUOTA:           http.StatusTooManyRequests,
	coffer.ETOOMANY:         http.StatusTooManyRequests,
	coffer.EUNAVAILABLE:     http.StatusServiceUnavailable,
}

// errorView is what the error page shows.
type errorView struct {
	Code string
	// Back is where the page's link goes: the page the form was on.
	Back string
}

// writeError answers err as a page: the engine's message, never a cause or
// a stack; an internal error is logged, with the request's id, and shown
// as such.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	code := coffer.ErrorCode(err)
	coffer.AuditEntryFromContext(ctx).SetErrorCode(code)
	status, ok := errorStatus[code]
	msg := coffer.ErrorMessage(err)
	if !ok {
		status, code = http.StatusInternalServerError, coffer.EINTERNAL
		msg = "Something went wrong on the server (request " + coffer.RequestIDFromContext(ctx) + ")."
		h.log.ErrorContext(ctx, "request failed", "dialect", "console", "request_id", coffer.RequestIDFromContext(ctx), "error", err)
	}
	if code == coffer.EFORBIDDEN && msg == "" {
		msg = "You are not allowed to do this."
	}
	back := Prefix + "/"
	if id := r.PathValue("id"); id != "" && strings.HasPrefix(r.URL.Path, "/secrets/") {
		back = Prefix + "/secrets/" + url.PathEscape(id) + "/"
	}
	v := &view{Title: http.StatusText(status), Error: msg, Data: errorView{Code: code, Back: back}}
	if coffer.CallerFromContext(ctx) == nil {
		v.anonymous = true
	}
	h.render(w, r, status, "error", v)
}
