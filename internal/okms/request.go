package okms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

// decodeBody reads a JSON object into v. An empty body counts as {}. Every
// failure is an EINVALID or ETOOLARGE error.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return coffer.Invalid("Content-Type", coffer.ReasonConstraint, "the request body must be application/json")
		}
	}
	body, err := io.ReadAll(r.Body)
	defer clear(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &coffer.Error{Code: coffer.ETOOLARGE, Message: fmt.Sprintf("the request body must be at most %d bytes", mbe.Limit)}
		}
		return coffer.Invalid("body", coffer.ReasonFormat, "the request body could not be read")
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes one JSON object from body into v. Raw JSON values in v
// (version data) keep the exact bytes the client sent.
func decodeJSON(body []byte, v any) error {
	if err := coffer.CheckJSONText(body); err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var (
			se *json.SyntaxError
			te *json.UnmarshalTypeError
		)
		switch {
		case errors.As(err, &te) && te.Field != "":
			field := coffer.JSONArgument(v, te.Field)
			return coffer.Invalid(field, coffer.ReasonFormat, fmt.Sprintf("%s must be %s, not %s", field, jsonTypeName(te.Type.String()), te.Value))
		case errors.As(err, &te):
			return coffer.Invalid("body", coffer.ReasonFormat, "the request body must be a JSON object")
		case errors.As(err, &se):
			return coffer.Invalid("body", coffer.ReasonFormat, fmt.Sprintf("malformed JSON at byte %d", se.Offset))
		}
		return coffer.Invalid("body", coffer.ReasonFormat, "malformed JSON")
	}
	return nil
}

func jsonTypeName(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "uint32":
		return "an integer between 0 and 4294967295"
	case "map[string]string":
		return "an object of strings"
	}
	return "an object"
}

// secretData checks that raw, the data of a version, is a JSON object and
// returns it as the payload to store: the exact bytes received.
func secretData(field string, raw json.RawMessage) (coffer.Payload, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, coffer.Invalid(field, coffer.ReasonRequired, field+" is required: a JSON object")
	}
	if raw[0] != '{' {
		return nil, coffer.Invalid(field, coffer.ReasonFormat, field+" must be a JSON object")
	}
	return coffer.Payload(raw), nil
}

// isJSONObject reports whether b holds exactly one JSON object.
func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// versionInput is a version as clients send it: {"data": {...}}.
type versionInput struct {
	Data json.RawMessage `json:"data"`
}

// metadataInput is SecretV2MetadataShort. Absent fields are left alone on
// update and take the domain's defaults on create. The snake_case fields are
// the spellings of OVH's guide, accepted as aliases.
type metadataInput struct {
	CASRequired            *bool              `json:"casRequired"`
	CustomMetadata         *map[string]string `json:"customMetadata"`
	DeactivateVersionAfter *string            `json:"deactivateVersionAfter"`
	MaxVersions            *uint32            `json:"maxVersions"`

	CASRequiredAlias            *bool              `json:"cas_required"`
	CustomMetadataAlias         *map[string]string `json:"custom_metadata"`
	DeactivateVersionAfterAlias *string            `json:"deactivate_version_after"`
	MaxVersionsAlias            *uint32            `json:"max_versions"`
}

// settings is what a metadataInput or a configInput sets.
type settings struct {
	casRequired    *bool
	customMetadata *map[string]string
	versionTTL     *time.Duration
	maxVersions    *int
}

func (m *metadataInput) settings() (settings, error) {
	if m == nil {
		return settings{}, nil
	}
	s := settings{
		casRequired:    first(m.CASRequired, m.CASRequiredAlias),
		customMetadata: first(m.CustomMetadata, m.CustomMetadataAlias),
	}
	if n := first(m.MaxVersions, m.MaxVersionsAlias); n != nil {
		s.maxVersions = ptr(int(*n))
	}
	if d := first(m.DeactivateVersionAfter, m.DeactivateVersionAfterAlias); d != nil {
		ttl, err := parseDuration("metadata.deactivateVersionAfter", *d)
		if err != nil {
			return s, err
		}
		s.versionTTL = &ttl
	}
	return s, nil
}

func (s settings) empty() bool {
	return s.casRequired == nil && s.customMetadata == nil && s.versionTTL == nil && s.maxVersions == nil
}

func (s settings) secretUpdate() coffer.SecretUpdate {
	return coffer.SecretUpdate{CASRequired: s.casRequired, CustomMetadata: s.customMetadata, VersionTTL: s.versionTTL, MaxVersions: s.maxVersions}
}

// first returns a unless it is nil, else b.
func first[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// createSecretRequest is PostSecretV2Request.
type createSecretRequest struct {
	Path     *string        `json:"path"`
	Version  *versionInput  `json:"version"`
	Metadata *metadataInput `json:"metadata"`
}

// updateSecretRequest is PutSecretV2Request.
type updateSecretRequest struct {
	Version  *versionInput  `json:"version"`
	Metadata *metadataInput `json:"metadata"`
}

// updateVersionRequest is PutSecretVersionV2Request.
type updateVersionRequest struct {
	State *string `json:"state"`
}

// configInput is PutSecretConfigV2Request, with the snake_case spellings of
// the Vault config endpoint accepted as aliases.
type configInput struct {
	CASRequired            *bool   `json:"casRequired"`
	DeactivateVersionAfter *string `json:"deactivateVersionAfter"`
	MaxVersions            *uint32 `json:"maxVersions"`

	CASRequiredAlias            *bool   `json:"cas_required"`
	DeactivateVersionAfterAlias *string `json:"deactivate_version_after"`
	MaxVersionsAlias            *uint32 `json:"max_versions"`
}

func (c *configInput) settings() (settings, error) {
	s := settings{casRequired: first(c.CASRequired, c.CASRequiredAlias)}
	if n := first(c.MaxVersions, c.MaxVersionsAlias); n != nil {
		s.maxVersions = ptr(int(*n))
	}
	if d := first(c.DeactivateVersionAfter, c.DeactivateVersionAfterAlias); d != nil {
		ttl, err := parseDuration("deactivateVersionAfter", *d)
		if err != nil {
			return s, err
		}
		s.versionTTL = &ttl
	}
	return s, nil
}

// projectUpdate is the change of a project's settings s makes.
func (s settings) projectUpdate() coffer.ProjectSettingsUpdate {
	return coffer.ProjectSettingsUpdate{CASRequired: s.casRequired, MaxVersions: s.maxVersions, VersionTTL: s.versionTTL}
}

// query reads query parameters.
type query struct {
	v   url.Values
	err error
}

// newQuery parses the query string; a malformed one is an error.
func newQuery(r *http.Request) *query {
	v, err := url.ParseQuery(r.URL.RawQuery)
	q := &query{v: v}
	if err != nil {
		q.fail(coffer.Invalid("query", coffer.ReasonFormat, "the query string is not valid URL encoding"))
	}
	return q
}

func (q *query) fail(err error) {
	if q.err == nil {
		q.err = err
	}
}

// has reports whether a parameter is present, even empty.
func (q *query) has(name string) bool { _, ok := q.v[name]; return ok }

// boolean reads true or false; absent is def.
func (q *query) boolean(name string, def bool) bool {
	if !q.has(name) {
		return def
	}
	switch q.v.Get(name) {
	case "true":
		return true
	case "false":
		return false
	}
	q.fail(coffer.Invalid(name, coffer.ReasonFormat, name+" must be true or false"))
	return def
}

// uint32 reads a decimal number in [lo, 4294967295]; absent is nil.
func (q *query) uint32(name string, lo uint32) *uint32 {
	if !q.has(name) {
		return nil
	}
	s := q.v.Get(name)
	n, ok := parseUint32(s)
	if !ok || n < lo {
		q.fail(coffer.Invalid(name, coffer.ReasonFormat, fmt.Sprintf("%s must be an integer of at least %d, not %q", name, lo, clip(s, 32))))
		return nil
	}
	return &n
}

// maxDuration bounds durations: far beyond any useful version lifetime,
// well within time.Duration.
const maxDuration = 100 * 365 * 24 * time.Hour

// parseDuration reads a duration in Vault's syntax: a whole number of
// seconds ("3600"), of days ("1d"), or a Go duration ("10h30m10s", "90m");
// "" and "0s" mean never. Returns EINVALID.
func parseDuration(field, s string) (time.Duration, error) {
	bad := coffer.Invalid(field, coffer.ReasonFormat,
		fmt.Sprintf("%s must be a duration such as \"1d\", \"12h\" or \"10h30m10s\", not %q", field, clip(s, 32)))
	if len(s) > 64 {
		return 0, bad
	}
	var d time.Duration
	switch {
	case s == "":
		return 0, nil
	case strings.Trim(s, "0123456789") == "":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > int64(maxDuration/time.Second) {
			return 0, bad
		}
		d = time.Duration(n) * time.Second
	case strings.HasSuffix(s, "d"):
		num := s[:len(s)-1]
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || num == "" || strings.Trim(num, "0123456789") != "" || n > int64(maxDuration/(24*time.Hour)) {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 || d > maxDuration || s[0] == '+' {
			return 0, bad
		}
	}
	return d, nil
}
