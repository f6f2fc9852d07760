package coffer

import (
	"errors"
	"fmt"
)

// Error codes. Each dialect maps these, in one table, to its own status codes
// and error bodies.
const (
	ECONFLICT        = "conflict"          // the resource already exists, or a check-and-set lost
	EINTERNAL        = "internal"          // a fault of the server; details are logged, never returned
	EINVALID         = "invalid"           // the request is malformed or breaks a validation rule
	ENOTFOUND        = "not_found"         // no such resource, or the caller may not know it exists
	EUNAUTHENTICATED = "unauthenticated"   // no credential, or a credential that is not valid
	EFORBIDDEN       = "forbidden"         // authenticated, but not allowed
	EPRECONDITION    = "precondition"      // the resource's state forbids the operation
	EQUOTA           = "quota_exceeded"    // a configured limit would be exceeded
	ETOOLARGE        = "too_large"         // a request body or value is over its limit
	EUNAVAILABLE     = "unavailable"       // the server cannot serve now (sealed, shutting down)
	ETOOMANY         = "too_many_requests" // a rate limit, a concurrency cap or the throttling of failed authentications refused the request
)

// Reasons that qualify a field error, in the words of the Scaleway API.
const (
	ReasonRequired   = "required"
	ReasonFormat     = "format"
	ReasonConstraint = "constraint"
	ReasonUnknown    = "unknown"
)

// Preconditions that qualify an EPRECONDITION error.
const (
	PreconditionProtected        = "protected_resource"
	PreconditionDisabled         = "resource_disabled"
	PreconditionDeletion         = "resource_scheduled_for_deletion"
	PreconditionCASMismatch      = "cas_mismatch"
	PreconditionCASRequired      = "cas_required"
	PreconditionNotJSONObject    = "not_json_object"
	PreconditionVersionDeleted   = "version_deleted"
	PreconditionVersionDestroyed = "version_destroyed"
)

// Error is an application error. Message is always safe to show to a client:
// it never holds a secret value or an internal detail.
type Error struct {
	Code    string
	Message string

	// Resource and ResourceID name the resource an ENOTFOUND, ECONFLICT or
	// EPRECONDITION error is about ("secret", "secret_version", ...).
	Resource   string
	ResourceID string

	// Precondition names the failed precondition of an EPRECONDITION error.
	Precondition string

	// Action names what an EFORBIDDEN caller may not do ("read", "write"...).
	Action string

	// Fields lists the offending arguments of an EINVALID error.
	Fields []FieldError

	// Quota names the limit of an EQUOTA error and its value.
	Quota      string
	QuotaLimit int
}

// FieldError says what is wrong with one argument.
type FieldError struct {
	Field   string // argument name as the dialect spells it, e.g. "data"
	Reason  string // ReasonRequired, ReasonFormat, ReasonConstraint, ReasonUnknown
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Resource != "" && e.ResourceID != "" {
		return fmt.Sprintf("coffer error: code=%s message=%s resource=%s id=%s", e.Code, e.Message, e.Resource, e.ResourceID)
	}
	return fmt.Sprintf("coffer error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns an ENOTFOUND error for a resource.
func NotFound(resource, id string) *Error {
	return &Error{Code: ENOTFOUND, Message: resource + " not found", Resource: resource, ResourceID: id}
}

// Invalid returns an EINVALID error about one field.
func Invalid(field, reason, message string) *Error {
	return &Error{
		Code:    EINVALID,
		Message: message,
		Fields:  []FieldError{{Field: field, Reason: reason, Message: message}},
	}
}

// Precondition returns an EPRECONDITION error.
func Precondition(precondition, resource, id, message string) *Error {
	return &Error{Code: EPRECONDITION, Message: message, Precondition: precondition, Resource: resource, ResourceID: id}
}

// ErrorCodeOfStatus returns the code that a dialect's own refusal stands
// for, one that is not an *Error and has only its HTTP status (a path the
// server refused, an unknown route, a method a route does not take), so
// that its audit record names a code, never EINTERNAL for a client's
// mistake. It returns "" below 400.
func ErrorCodeOfStatus(status int) string {
	switch {
	case status < 400:
		return ""
	case status == 401:
		return EUNAUTHENTICATED
	case status == 403:
		return EFORBIDDEN
	case status == 404:
		return ENOTFOUND
	case status == 409:
		return ECONFLICT
	case status == 413:
		return ETOOLARGE
	case status == 503:
		return EUNAVAILABLE
	case status >= 500:
		return EINTERNAL
	}
	return EINVALID
}

// ErrorCode returns the code of the root *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the message of its
// *Error, or a generic text for internal errors, which may hold details that
// must not reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
