package scaleway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer"
)

// decodeBody reads a JSON object into v. An empty body counts as {}. Every
// failure is an EINVALID error naming the offending field where there is one.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return coffer.Invalid("Content-Type", coffer.ReasonConstraint, "the request body must be application/json")
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return coffer.Invalid("body", coffer.ReasonConstraint, fmt.Sprintf("the request body must be at most %d bytes", mbe.Limit))
		}
		return coffer.Invalid("body", coffer.ReasonFormat, "the request body could not be read")
	}
	defer clear(body)
	return decodeJSON(body, v)
}

// decodeJSON decodes one JSON object from body into v.
func decodeJSON(body []byte, v any) error {
	if err := coffer.CheckJSONText(body); err != nil {
		return err
	}
	if len(body) == 0 {
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
			return coffer.Invalid(field, coffer.ReasonFormat, fmt.Sprintf("%s must be of JSON type %s, not %s", field, jsonTypeName(te.Type.String()), te.Value))
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
	switch goType {
	case "string", "*string":
		return "string"
	case "bool", "*bool":
		return "boolean"
	case "[]string", "*[]string":
		return "array of strings"
	case "uint32", "*uint32", "int", "*int":
		return "number"
	}
	return "object"
}

// decodeData decodes a payload sent as padded standard base64.
func decodeData(s *string) (coffer.Payload, error) {
	if s == nil {
		return nil, coffer.Invalid("data", coffer.ReasonRequired, "data is required")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(*s)
	if err != nil {
		return nil, coffer.Invalid("data", coffer.ReasonFormat, "data must be standard base64 with padding")
	}
	return coffer.Payload(b), nil
}

// query reads the query parameters of the SDKs: repeated keys for lists,
// true/false booleans, decimal numbers.
type query struct {
	v   url.Values
	err error
}

func newQuery(r *http.Request) *query { return &query{v: r.URL.Query()} }

func (q *query) str(name string) string { return q.v.Get(name) }

func (q *query) list(name string) []string { return q.v[name] }

func (q *query) boolean(name string) *bool {
	s := q.v.Get(name)
	if s == "" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil || (s != "true" && s != "false") {
		q.fail(coffer.Invalid(name, coffer.ReasonFormat, name+" must be true or false"))
		return nil
	}
	return &b
}

func (q *query) integer(name string, def, lo, hi int) int {
	s := q.v.Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		q.fail(coffer.Invalid(name, coffer.ReasonFormat, name+" must be a number"))
		return def
	}
	if n < lo || n > hi {
		q.fail(coffer.Invalid(name, coffer.ReasonConstraint, fmt.Sprintf("%s must be between %d and %d", name, lo, hi)))
		return def
	}
	return n
}

func (q *query) fail(err error) {
	if q.err == nil {
		q.err = err
	}
}

// Paging defaults: the SDKs' "all pages" helpers rely on an exact total.
const (
	defaultPageSize = 50
	maxPageSize     = 100
	maxPage         = 1 << 24
)

// page returns the offset and limit of the page and page_size parameters;
// page_size=0 means the default.
func (q *query) page() (offset, limit int) {
	page := q.integer("page", 1, 1, maxPage)
	size := q.integer("page_size", defaultPageSize, 0, maxPageSize)
	if size == 0 {
		size = defaultPageSize
	}
	return (page - 1) * size, size
}

// secretType reads a type filter or field: unknown_type and "" mean none.
func secretType(field, s string) (coffer.SecretType, error) {
	if s == "" || s == "unknown_type" {
		return "", nil
	}
	t := coffer.SecretType(s)
	if !t.Valid() {
		return "", coffer.Invalid(field, coffer.ReasonConstraint, fmt.Sprintf("%s must be one of opaque, certificate, key_value, basic_credentials, database_credentials, ssh_key", field))
	}
	return t, nil
}

// ephemeralPolicyRequest is an ephemeral policy as clients send it.
type ephemeralPolicyRequest struct {
	TimeToLive          *string `json:"time_to_live"`
	ExpiresOnceAccessed *bool   `json:"expires_once_accessed"`
	Action              string  `json:"action"`
}

func (p *ephemeralPolicyRequest) policy() (*coffer.EphemeralPolicy, error) {
	if p == nil {
		return nil, nil
	}
	out := &coffer.EphemeralPolicy{}
	if p.TimeToLive != nil {
		d, err := parseDuration(*p.TimeToLive)
		if err != nil {
			return nil, coffer.Invalid("ephemeral_policy.time_to_live", coffer.ReasonFormat, err.Error())
		}
		out.TTL = d
	}
	if p.ExpiresOnceAccessed != nil {
		out.ExpiresOnceAccessed = *p.ExpiresOnceAccessed
	}
	action, err := ephemeralAction("ephemeral_policy.action", p.Action)
	if err != nil {
		return nil, err
	}
	out.Action = action
	return out, nil
}

func ephemeralAction(field, s string) (coffer.EphemeralAction, error) {
	switch s {
	case "", "unknown_action":
		return "", nil
	case "disable", "delete":
		return coffer.EphemeralAction(s), nil
	}
	return "", coffer.Invalid(field, coffer.ReasonConstraint, field+" must be disable or delete")
}

type createSecretRequest struct {
	ProjectID       string                  `json:"project_id"`
	Name            string                  `json:"name"`
	Tags            []string                `json:"tags"`
	Description     *string                 `json:"description"`
	Type            string                  `json:"type"`
	Path            *string                 `json:"path"`
	EphemeralPolicy *ephemeralPolicyRequest `json:"ephemeral_policy"`
	Protected       bool                    `json:"protected"`
	KeyID           *string                 `json:"key_id"`
}

func (req *createSecretRequest) secretCreate() (coffer.SecretCreate, error) {
	c := coffer.SecretCreate{ProjectID: req.ProjectID, Name: req.Name, Tags: req.Tags, Protected: req.Protected}
	var err error
	if c.Type, err = secretType("type", req.Type); err != nil {
		return c, err
	}
	if req.Description != nil {
		c.Description = *req.Description
	}
	if req.Path != nil {
		c.Path = *req.Path
	}
	if req.KeyID != nil {
		c.KeyID = *req.KeyID
	}
	c.Ephemeral, err = req.EphemeralPolicy.policy()
	return c, err
}

type updateSecretRequest struct {
	Name            *string                 `json:"name"`
	Tags            *[]string               `json:"tags"`
	Description     *string                 `json:"description"`
	Path            *string                 `json:"path"`
	EphemeralPolicy *ephemeralPolicyRequest `json:"ephemeral_policy"`
}

func (req *updateSecretRequest) secretUpdate() (coffer.SecretUpdate, error) {
	u := coffer.SecretUpdate{Name: req.Name, Tags: req.Tags, Description: req.Description, Path: req.Path}
	var err error
	u.Ephemeral, err = req.EphemeralPolicy.policy()
	return u, err
}

type createVersionRequest struct {
	Data            *string `json:"data"`
	Description     *string `json:"description"`
	DisablePrevious *bool   `json:"disable_previous"`
	DataCRC32       *uint32 `json:"data_crc32"`
}

func (req *createVersionRequest) versionCreate() (coffer.VersionCreate, error) {
	data, err := decodeData(req.Data)
	if err != nil {
		return coffer.VersionCreate{}, err
	}
	c := coffer.VersionCreate{Data: data, DataCRC32: req.DataCRC32}
	if req.Description != nil {
		c.Description = *req.Description
	}
	if req.DisablePrevious != nil {
		c.DisablePrevious = *req.DisablePrevious
	}
	return c, nil
}

type ephemeralPropertiesRequest struct {
	ExpiresAt           *string `json:"expires_at"`
	ExpiresOnceAccessed *bool   `json:"expires_once_accessed"`
	Action              string  `json:"action"`
}

type updateVersionRequest struct {
	Description         *string                     `json:"description"`
	EphemeralProperties *ephemeralPropertiesRequest `json:"ephemeral_properties"`
}

func (req *updateVersionRequest) versionUpdate() (coffer.VersionUpdate, error) {
	u := coffer.VersionUpdate{Description: req.Description}
	if p := req.EphemeralProperties; p != nil {
		ep := &coffer.EphemeralProperties{}
		if p.ExpiresAt != nil {
			t, err := time.Parse(time.RFC3339Nano, *p.ExpiresAt)
			if err != nil {
				return u, coffer.Invalid("ephemeral_properties.expires_at", coffer.ReasonFormat, "expires_at must be an RFC 3339 timestamp")
			}
			t = t.UTC().Truncate(time.Microsecond)
			ep.ExpiresAt = &t
		}
		if p.ExpiresOnceAccessed != nil {
			ep.ExpiresOnceAccessed = *p.ExpiresOnceAccessed
		}
		var err error
		if ep.Action, err = ephemeralAction("ephemeral_properties.action", p.Action); err != nil {
			return u, err
		}
		u.Ephemeral = ep
	}
	return u, nil
}

type addOwnerRequest struct {
	Product string `json:"product"`
}
