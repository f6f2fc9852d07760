package scaleway

import (
	"context"
	"net/http"

	"github.com/coffer-dev/coffer"
)

// errorJSON is the service's error body. Which fields are set depends on
// type; the SDKs pick the error class from type alone.
type errorJSON struct {
	Type         string `json:"type"`
	Message      string `json:"message"`
	Details      []any  `json:"details,omitempty"`
	Resource     string `json:"resource,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	Precondition string `json:"precondition,omitempty"`
	HelpMessage  string `json:"help_message,omitempty"`
	Method       string `json:"method,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

type argumentDetail struct {
	ArgumentName string `json:"argument_name"`
	Reason       string `json:"reason"`
	HelpMessage  string `json:"help_message"`
}

type permissionDetail struct {
	Resource string `json:"resource"`
	Action   string `json:"action"`
}

type quotaDetail struct {
	Resource string `json:"resource"`
	Quota    int    `json:"quota"`
	Current  int    `json:"current"`
}

// errorStatus is the one table from coffer error codes to this dialect's
// status codes and error types.
var errorStatus = map[string]struct {
	status int
	typ    string
}{
	coffer.EINVALID:         {http.StatusBadRequest, "invalid_arguments"},
	coffer.ETOOLARGE:        {http.StatusBadRequest, "invalid_arguments"},
	coffer.ENOTFOUND:        {http.StatusNotFound, "not_found"},
	coffer.EPRECONDITION:    {http.StatusPreconditionFailed, "precondition_failed"},
	coffer.ECONFLICT:        {http.StatusConflict, "already_exists"},
	coffer.EUNAUTHENTICATED: {http.StatusUnauthorized, "denied_authentication"},
	coffer.EFORBIDDEN:       {http.StatusForbidden, "permissions_denied"},
	coffer.EQUOTA:           {http.StatusForbidden, "quotas_exceeded"},
	coffer.EUNAVAILABLE:     {http.StatusServiceUnavailable, "unavailable"},
	coffer.ETOOMANY:         {http.StatusTooManyRequests, "too_many_requests"},
	coffer.EINTERNAL:        {http.StatusInternalServerError, "internal_error"},
}

// toError builds the error body of err and its status.
func toError(err error) (int, errorJSON) {
	code := coffer.ErrorCode(err)
	m, ok := errorStatus[code]
	if !ok {
		m = errorStatus[coffer.EINTERNAL]
	}
	body := errorJSON{Type: m.typ}
	e := coffer.AsError(err)
	if e == nil || code == coffer.EINTERNAL {
		body.Message = "internal error"
		return m.status, body
	}
	switch code {
	case coffer.EINVALID, coffer.ETOOLARGE:
		body.Message = "invalid argument(s)"
		for _, f := range e.Fields {
			body.Details = append(body.Details, argumentDetail{ArgumentName: f.Field, Reason: f.Reason, HelpMessage: f.Message})
		}
		if len(e.Fields) == 0 {
			body.Details = append(body.Details, argumentDetail{ArgumentName: "", Reason: coffer.ReasonConstraint, HelpMessage: e.Message})
		}
	case coffer.ENOTFOUND:
		body.Message = "resource is not found"
		body.Resource, body.ResourceID = e.Resource, e.ResourceID
	case coffer.EPRECONDITION:
		body.Message = "precondition is not respected"
		body.Precondition = e.Precondition
		body.HelpMessage = e.Message
	case coffer.ECONFLICT:
		body.Message = "resource already exists"
		body.Resource, body.ResourceID = e.Resource, e.ResourceID
		body.HelpMessage = e.Message
	case coffer.EUNAUTHENTICATED:
		body.Message = "authentication is denied"
		body.Method, body.Reason = "api_key", "invalid_argument"
	case coffer.EFORBIDDEN:
		body.Message = "insufficient permissions"
		body.Details = []any{permissionDetail{Resource: e.Resource, Action: e.Action}}
	case coffer.EQUOTA:
		body.Message = "quota(s) exceeded"
		body.Details = []any{quotaDetail{Resource: e.Resource, Quota: e.QuotaLimit, Current: e.QuotaLimit}}
	default:
		body.Message = e.Message
	}
	return m.status, body
}

// writeError writes err in the service's format. Internal errors are logged
// once, with the request id; the client only learns that one happened.
func (h *Handler) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	coffer.AuditEntryFromContext(ctx).SetErrorCode(coffer.ErrorCode(err))
	status, body := toError(err)
	if status >= 500 {
		h.log.ErrorContext(ctx, "request failed", "dialect", "scaleway",
			"request_id", coffer.RequestIDFromContext(ctx), "error", err)
	}
	writeJSON(w, status, body)
}
