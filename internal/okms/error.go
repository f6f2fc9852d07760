package okms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coffer-dev/coffer"
)

// errorJSON is the service's ErrorResponse.
type errorJSON struct {
	ErrorCode int32    `json:"error_code"`
	ErrorID   string   `json:"error_id"`
	Errors    []string `json:"errors"`
	RequestID string   `json:"request_id"`
}

// OKMS error codes pack system (bits 24-31), component (16-23), category
// (12-15) and a number (0-11). Only the secret-not-found code is documented
// as such (External Secrets Operator matches it); the others are the REST
// general and authentication codes of the SDK's decoder tests, and the
// unavailable code follows the same scheme.
const (
	codeNotFound     = 17125377 // 0x01055001 CCM / Secret Manager / Not Found
	codeUnauthorized = 50475011 // 0x03023003 REST / Auth Provider / Authentication
	codeForbidden    = 16924673 // 0x01024001 CCM / IAM / Authorization
	codeInvalid      = 50405377 // 0x03012001 REST / General / Argument
	codeConflict     = 50438145 // 0x0301A001 REST / General / Conflict
	codeInternal     = 50401281 // 0x03011001 REST / General / Internal
	codeNoRoute      = 50417665 // 0x03015001 REST / General / Not Found
	codeUnavailable  = 50425857 // 0x03017001 REST / General / Unavailable
	codeTooMany      = 50434049 // 0x03019001 REST / General / Too Many Requests
)

// errorStatus is the one table from coffer error codes to this dialect's
// statuses and error codes.
var errorStatus = map[string]struct {
	status int
	code   int32
}{
	coffer.EINVALID:         {http.StatusBadRequest, codeInvalid},
	coffer.EPRECONDITION:    {http.StatusBadRequest, codeInvalid},
	coffer.EQUOTA:           {http.StatusBadRequest, codeInvalid},
	coffer.ETOOLARGE:        {http.StatusRequestEntityTooLarge, codeInvalid},
	coffer.ENOTFOUND:        {http.StatusNotFound, codeNotFound},
	coffer.ECONFLICT:        {http.StatusConflict, codeConflict},
	coffer.EUNAUTHENTICATED: {http.StatusUnauthorized, codeUnauthorized},
	coffer.EFORBIDDEN:       {http.StatusForbidden, codeForbidden},
	coffer.EUNAVAILABLE:     {http.StatusServiceUnavailable, codeUnavailable},
	coffer.ETOOMANY:         {http.StatusTooManyRequests, codeTooMany},
	coffer.EINTERNAL:        {http.StatusInternalServerError, codeInternal},
}

// routeError is an answer about the URL itself rather than a resource.
type routeError struct {
	status int
	msg    string
}

func (e *routeError) Error() string { return e.msg }

var (
	errNoRoute     = &routeError{http.StatusNotFound, "no such route in the OKMS secret API v2"}
	errMethod      = &routeError{http.StatusMethodNotAllowed, "method not allowed on this route"}
	errUncleanPath = &routeError{http.StatusBadRequest, "the URL path must not hold empty, '.' or '..' segments"}
	errNoToken     = &coffer.Error{Code: coffer.EUNAUTHENTICATED, Message: "authentication is required: send Authorization: Bearer <API secret key>"}
)

// wireNames are the names this dialect gives the engine's argument names.
var wireNames = map[string]string{
	"project_id":      "okmsId",
	"path":            "path",
	"name":            "path",
	"secret_path":     "path",
	"secret_name":     "path",
	"max_versions":    "maxVersions",
	"version_ttl":     "deactivateVersionAfter",
	"custom_metadata": "customMetadata",
	"revision":        "version",
}

// messages returns the client-safe messages of an application error, with
// the engine's argument names replaced by this dialect's.
func messages(e *coffer.Error) []string {
	if e.Code == coffer.ENOTFOUND && e.Resource != "" && e.ResourceID != "" {
		return []string{fmt.Sprintf("%s %q not found", strings.ReplaceAll(e.Resource, "_", " "), clip(e.ResourceID, 256))}
	}
	if len(e.Fields) == 0 {
		return []string{e.Message}
	}
	out := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		msg := f.Message
		if name, ok := wireNames[f.Field]; ok {
			if rest, ok := strings.CutPrefix(msg, f.Field); ok {
				msg = name + rest
			}
		}
		out = append(out, msg)
	}
	return out
}

// toError builds the error body of err and its status. The request and
// error ids are filled in by writeError.
func toError(err error) (int, errorJSON) {
	var re *routeError
	if errors.As(err, &re) {
		code := int32(codeInvalid)
		if re.status == http.StatusNotFound {
			code = codeNoRoute
		}
		return re.status, errorJSON{ErrorCode: code, Errors: []string{re.msg}}
	}
	code := coffer.ErrorCode(err)
	m, ok := errorStatus[code]
	if !ok {
		m = errorStatus[coffer.EINTERNAL]
	}
	e := coffer.AsError(err)
	if e == nil || code == coffer.EINTERNAL || !ok {
		return m.status, errorJSON{ErrorCode: m.code, Errors: []string{"internal error"}}
	}
	return m.status, errorJSON{ErrorCode: m.code, Errors: messages(e)}
}

// writeError writes err in the service's format. Internal errors are logged
// once, with the request and error ids; the client only learns that one
// happened.
func (h *Handler) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	coffer.AuditEntryFromContext(ctx).SetErrorCode(errorCode(err))
	status, body := toError(err)
	body.ErrorID = coffer.NewRequestID()
	body.RequestID = coffer.RequestIDFromContext(ctx)
	if body.RequestID == "" {
		body.RequestID = coffer.NewRequestID()
	}
	if status >= 500 {
		h.log.ErrorContext(ctx, "request failed", "dialect", "okms",
			"request_id", body.RequestID, "error_id", body.ErrorID, "error", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="okms"`)
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
