package imco

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coffer-dev/coffer"
)

// IMCO answers errors with one of two bodies: {"errors": {field: [msg]}}
// for a request whose fields fail validation, and {"error": msg} for the
// rest.
type errorJSON struct {
	Error string `json:"error"`
}

type fieldErrorsJSON struct {
	Errors map[string][]string `json:"errors"`
}

// errorStatus is the one table from coffer error codes to this dialect's
// statuses.
var errorStatus = map[string]int{
	coffer.EINVALID:         http.StatusUnprocessableEntity,
	coffer.EPRECONDITION:    http.StatusUnprocessableEntity,
	coffer.EQUOTA:           http.StatusUnprocessableEntity,
	coffer.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	coffer.ENOTFOUND:        http.StatusNotFound,
	coffer.ECONFLICT:        http.StatusConflict,
	coffer.EUNAUTHENTICATED: http.StatusUnauthorized,
	coffer.EFORBIDDEN:       http.StatusForbidden,
	coffer.EUNAVAILABLE:     http.StatusServiceUnavailable,
	coffer.ETOOMANY:         http.StatusTooManyRequests,
	coffer.EINTERNAL:        http.StatusInternalServerError,
}

// routeError is an answer about the URL itself rather than a resource.
type routeError struct {
	status int
	msg    string
}

func (e *routeError) Error() string { return e.msg }

var (
	errNoRoute      = &routeError{http.StatusNotFound, "no such route in the IMCO API"}
	errMethod       = &routeError{http.StatusMethodNotAllowed, "method not allowed on this route"}
	errUncleanPath  = &routeError{http.StatusBadRequest, "the URL path must not hold empty, '.' or '..' segments"}
	errNoCredential = &coffer.Error{Code: coffer.EUNAUTHENTICATED, Message: "authentication is required: present a client certificate or send Authorization: Bearer <API secret key>"}
)

// wireNames are the names this dialect gives the engine's argument names.
var wireNames = map[string]string{
	"data":         "content",
	"secret_id":    "id",
	"key_vault_id": "key_vault_id",
}

// pathIDs are the engine's names of the ids this dialect takes from URLs,
// with the resource each names.
var pathIDs = map[string]string{"secret_id": "secret", "key_vault_id": "key vault"}

// fieldName returns the wire name of an engine argument.
func fieldName(f string) string {
	if n, ok := wireNames[f]; ok {
		return n
	}
	return strings.ReplaceAll(f, ".", "_")
}

// toError returns the status and body of err.
func toError(err error) (int, any) {
	var re *routeError
	if errors.As(err, &re) {
		return re.status, errorJSON{Error: re.msg}
	}
	code := coffer.ErrorCode(err)
	status, ok := errorStatus[code]
	e := coffer.AsError(err)
	if !ok || e == nil || code == coffer.EINTERNAL {
		return http.StatusInternalServerError, errorJSON{Error: "internal error"}
	}
	switch {
	case code == coffer.EINVALID && len(e.Fields) == 1 && pathIDs[e.Fields[0].Field] != "":
		// An id in the URL that is not even an id names nothing.
		return http.StatusNotFound, errorJSON{Error: pathIDs[e.Fields[0].Field] + " not found"}
	case code == coffer.EINVALID && len(e.Fields) > 0:
		out := fieldErrorsJSON{Errors: map[string][]string{}}
		for _, f := range e.Fields {
			name := fieldName(f.Field)
			msg := f.Message
			if rest, ok := strings.CutPrefix(msg, f.Field+" "); ok {
				msg = rest
			} else if rest, ok := strings.CutPrefix(msg, f.Field+": "); ok {
				msg = rest
			}
			out.Errors[name] = append(out.Errors[name], msg)
		}
		return status, out
	case code == coffer.ENOTFOUND && e.Resource != "":
		return status, errorJSON{Error: fmt.Sprintf("%s not found", strings.ReplaceAll(e.Resource, "_", " "))}
	}
	return status, errorJSON{Error: e.Message}
}

// writeError writes err in IMCO's format. Internal errors are logged once,
// with the request id; the client only learns that one happened.
func (h *Handler) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	coffer.AuditEntryFromContext(ctx).SetErrorCode(errorCode(err))
	status, body := toError(err)
	if status >= 500 {
		h.log.ErrorContext(ctx, "request failed", "dialect", "imco",
			"request_id", coffer.RequestIDFromContext(ctx), "error", err)
	}
	writeJSON(w, status, body)
}

// errorCode returns the coffer code err stands for: its own, or for an
// answer about the URL (routeError), the one its status stands for.
func errorCode(err error) string {
	var re *routeError
	if errors.As(err, &re) {
		return coffer.ErrorCodeOfStatus(re.status)
	}
	return coffer.ErrorCode(err)
}
