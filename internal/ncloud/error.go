package ncloud

import (
	"context"
	"errors"
	"net/http"

	"github.com/coffer-dev/coffer"
)

// errorJSON is NAVER's responseError.
type errorJSON struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
	Details   string `json:"details"`
}

// wireError is one of NAVER's error codes with its status and message.
type wireError struct {
	status  int
	code    string
	message string
}

// NAVER's error codes (the common response status codes of the Secret
// Manager API).
var (
	invalidRequest = wireError{http.StatusBadRequest, "INVALID_REQUEST", "Invalid request"}
	unauthorized   = wireError{http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized"}
	forbidden      = wireError{http.StatusForbidden, "FORBIDDEN", "Forbidden"}
	notFound       = wireError{http.StatusNotFound, "NOT_FOUND", "Not found"}
	invalidStatus  = wireError{http.StatusConflict, "INVALID_STATUS", "Invalid status"}
	unprocessable  = wireError{http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "Invalid status"}
	tooMany        = wireError{http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Too many requests"}
	internalError  = wireError{http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Server internal error"}
)

// errorStatus is the one table from coffer error codes to NAVER's. A
// request the secret's status forbids (EPRECONDITION) is INVALID_STATUS; a
// valid request that breaks another rule (a name taken, a quota) is
// UNPROCESSABLE_ENTITY.
var errorStatus = map[string]wireError{
	coffer.EINVALID:         invalidRequest,
	coffer.ETOOLARGE:        invalidRequest,
	coffer.EUNAUTHENTICATED: unauthorized,
	coffer.EFORBIDDEN:       forbidden,
	coffer.ENOTFOUND:        notFound,
	coffer.EPRECONDITION:    invalidStatus,
	coffer.ECONFLICT:        unprocessable,
	coffer.EQUOTA:           unprocessable,
	coffer.EUNAVAILABLE:     internalError,
	coffer.ETOOMANY:         tooMany,
	coffer.EINTERNAL:        internalError,
}

// routeError is an answer about the URL itself rather than a resource.
type routeError struct {
	wire wireError
	msg  string
}

func (e *routeError) Error() string { return e.msg }

var (
	errNoRoute      = &routeError{notFound, "no such operation in the Secret Manager API"}
	errUncleanPath  = &routeError{invalidRequest, "the URL path must not hold empty, '.' or '..' segments"}
	errUnauthorized = &coffer.Error{Code: coffer.EUNAUTHENTICATED, Message: "authentication failed"}
)

// toError builds the error body of err and its status.
func toError(err error) (int, errorJSON) {
	var re *routeError
	if errors.As(err, &re) {
		return re.wire.status, errorJSON{errorBody{re.wire.code, re.wire.message, re.msg}}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return invalidRequest.status, errorJSON{errorBody{invalidRequest.code, invalidRequest.message, "the request body is too large"}}
	}
	code := coffer.ErrorCode(err)
	m, ok := errorStatus[code]
	if !ok {
		m, code = internalError, coffer.EINTERNAL
	}
	details := coffer.ErrorMessage(err)
	switch code {
	case coffer.EINTERNAL:
		details = "internal error"
	case coffer.EUNAUTHENTICATED:
		// One answer for every failure: nothing says which part of the
		// signature, the key or the time was wrong.
		details = errUnauthorized.Message
	case coffer.ENOTFOUND:
		if e := coffer.AsError(err); e != nil && e.Resource != "" {
			details = e.Resource + " not found"
		}
	}
	return m.status, errorJSON{errorBody{m.code, m.message, details}}
}

// writeError writes err in NAVER's format. Internal errors are logged once,
// with the request id; the client only learns that one happened.
func (h *Handler) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	coffer.AuditEntryFromContext(ctx).SetErrorCode(errorCode(err))
	status, body := toError(err)
	if status >= 500 {
		h.log.ErrorContext(ctx, "request failed", "dialect", "ncloud",
			"request_id", coffer.RequestIDFromContext(ctx), "error", err)
	}
	writeJSON(w, status, body)
}

// errorCode returns the coffer code err stands for: its own, or for an
// answer about the URL (routeError), the one its status stands for.
func errorCode(err error) string {
	var re *routeError
	if errors.As(err, &re) {
		return coffer.ErrorCodeOfStatus(re.wire.status)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return coffer.ETOOLARGE
	}
	return coffer.ErrorCode(err)
}
