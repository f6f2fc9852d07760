package vaultkv

import (
	"context"
	"errors"
	"net/http"

	"github.com/coffer-dev/coffer"
)

// errorJSON is Vault's error body. A plain "not found" has no message.
type errorJSON struct {
	Errors []string `json:"errors"`
}

// errorStatus is the one table from coffer error codes to this dialect's
// status codes. Vault answers every refused request with 400, whatever the
// reason: validation, check-and-set, a state that forbids the operation.
var errorStatus = map[string]int{
	coffer.EINVALID:         http.StatusBadRequest,
	coffer.EPRECONDITION:    http.StatusBadRequest,
	coffer.ECONFLICT:        http.StatusBadRequest,
	coffer.EQUOTA:           http.StatusBadRequest,
	coffer.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	coffer.ENOTFOUND:        http.StatusNotFound,
	coffer.EUNAUTHENTICATED: http.StatusForbidden,
	coffer.EFORBIDDEN:       http.StatusForbidden,
	coffer.EUNAVAILABLE:     http.StatusServiceUnavailable,
	coffer.ETOOMANY:         http.StatusTooManyRequests,
	coffer.EINTERNAL:        http.StatusInternalServerError,
}

// statusError is an answer of this dialect that no coffer code describes:
// its status and messages are Vault's own.
type statusError struct {
	status int
	msgs   []string
}

func (e *statusError) Error() string {
	if len(e.msgs) == 0 {
		return http.StatusText(e.status)
	}
	return e.msgs[0]
}

// Errors whose wording clients and scripts know.
var (
	errNoToken     = &statusError{status: http.StatusForbidden, msgs: []string{"permission denied"}}
	errBadToken    = &statusError{status: http.StatusForbidden, msgs: []string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}}
	errUnsupported = &statusError{status: http.StatusMethodNotAllowed, msgs: []string{"1 error occurred:\n\t* unsupported operation\n\n"}}
	errUncleanPath = &statusError{status: http.StatusBadRequest, msgs: []string{`invalid request path: empty, "." and ".." segments are not allowed`}}
	errNoData      = &statusError{status: http.StatusBadRequest, msgs: []string{"no data provided"}}
)

// toError returns the status and body of err.
func toError(err error) (int, errorJSON) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, errorJSON{Errors: append([]string{}, se.msgs...)}
	}
	code := coffer.ErrorCode(err)
	status, ok := errorStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	switch code {
	case coffer.ENOTFOUND:
		return status, errorJSON{Errors: []string{}}
	case coffer.EUNAUTHENTICATED, coffer.EFORBIDDEN:
		return status, errorJSON{Errors: []string{"permission denied"}}
	case coffer.EINTERNAL:
		return status, errorJSON{Errors: []string{"internal error"}}
	}
	return status, errorJSON{Errors: []string{coffer.ErrorMessage(err)}}
}

// errorCode returns the coffer code err stands for: its own, or for an
// answer of this dialect's own, the one its status stands for.
func errorCode(err error) string {
	var se *statusError
	if errors.As(err, &se) {
		return coffer.ErrorCodeOfStatus(se.status)
	}
	return coffer.ErrorCode(err)
}

// writeError writes err in Vault's format. Internal errors are logged once,
// with the request id; the client only learns that one happened.
func (h *Handler) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	coffer.AuditEntryFromContext(ctx).SetErrorCode(errorCode(err))
	status, body := toError(err)
	if status >= 500 {
		h.log.ErrorContext(ctx, "request failed", "dialect", "vaultkv",
			"request_id", coffer.RequestIDFromContext(ctx), "error", err)
	}
	writeJSON(w, status, body)
}

// versionGone reports whether err says that a version exists but cannot be
// read: disabled, scheduled for deletion, expired or destroyed. Vault
// answers those with the version's metadata.
func versionGone(err error) bool {
	e := coffer.AsError(err)
	return e != nil && e.Code == coffer.EPRECONDITION && e.Resource == "secret_version" &&
		e.Precondition != coffer.PreconditionNotJSONObject
}

// answeredDone notes, for the audit record, the error a request answered
// as done, as Vault answers a delete of a key that does not exist (or that
// the caller may not see) with a 204: the record says what happened.
func answeredDone(ctx context.Context, err error) {
	coffer.AuditEntryFromContext(ctx).SetErrorCode(coffer.ErrorCode(err))
}

// notFound reports whether err is ENOTFOUND.
func notFound(err error) bool { return coffer.ErrorCode(err) == coffer.ENOTFOUND }
