package vaultkv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

// Operations, as Vault's router names what a request asks.
type operation int

const (
	opUnsupported operation = iota
	opRead
	opList
	opScan
	opUpdate // create or update: POST and PUT alike
	opPatch
	opDelete
)

// operationOf returns what a request asks: LIST and SCAN, or GET with
// list=true or scan=true, are listings; HEAD is a read.
func operationOf(r *http.Request) (operation, error) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		q := r.URL.Query()
		for _, f := range []struct {
			name string
			op   operation
		}{{"list", opList}, {"scan", opScan}} {
			if s := q.Get(f.name); s != "" {
				b, err := strconv.ParseBool(s)
				if err != nil {
					return 0, badRequest("invalid value for %q: %q is not a boolean", f.name, truncate(s, 32))
				}
				if b {
					return f.op, nil
				}
			}
		}
		return opRead, nil
	case "LIST":
		return opList, nil
	case "SCAN":
		return opScan, nil
	case http.MethodPost, http.MethodPut:
		return opUpdate, nil
	case http.MethodPatch:
		return opPatch, nil
	case http.MethodDelete:
		return opDelete, nil
	}
	return opUnsupported, nil
}

// subcommand is the vault kv command that does op, for warnings.
func (op operation) subcommand() string {
	switch op {
	case opRead:
		return "get"
	case opList, opScan:
		return "list"
	case opUpdate:
		return "put"
	case opPatch:
		return "patch"
	case opDelete:
		return "delete"
	}
	return ""
}

// badRequest returns a 400 error with Vault's body.
func badRequest(format string, args ...any) error {
	return &statusError{status: http.StatusBadRequest, msgs: []string{fmt.Sprintf(format, args...)}}
}

// Content types a PATCH may carry: Vault's, and the one OKMS's SDK sends.
const mergePatchType = "application/merge-patch+json"

// checkPatchType refuses a PATCH that is not a JSON merge patch.
func checkPatchType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == mergePatchType || mt == "application/json") {
		return nil
	}
	return &statusError{status: http.StatusUnsupportedMediaType, msgs: []string{
		fmt.Sprintf("PATCH requires Content-Type of %s, provided %s", mergePatchType, truncate(ct, 128)),
	}}
}

// readBody reads a request body of at most the configured size and decodes
// it as a JSON object. The caller wipes body when done: it may hold secret
// values, and so may the fields, which are copies.
func readBody(r *http.Request) (body []byte, fields map[string]json.RawMessage, err error) {
	body, err = io.ReadAll(r.Body)
	if err != nil {
		clear(body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, &statusError{status: http.StatusRequestEntityTooLarge, msgs: []string{
				fmt.Sprintf("failed to parse JSON input: http: request body too large (at most %d bytes)", mbe.Limit),
			}}
		}
		return nil, nil, badRequest("failed to read the request body")
	}
	fields, err = decodeFields(body)
	if err != nil {
		clear(body)
		return nil, nil, err
	}
	return body, fields, nil
}

// decodeFields decodes a request body: a JSON object, null, or nothing at
// all (an empty object).
func decodeFields(body []byte) (map[string]json.RawMessage, error) {
	if err := coffer.CheckJSONText(body); err != nil {
		return nil, badRequest("%s", coffer.ErrorMessage(err))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var (
			se *json.SyntaxError
			te *json.UnmarshalTypeError
		)
		switch {
		case errors.As(err, &se):
			return nil, badRequest("failed to parse JSON input: malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te):
			return nil, badRequest("failed to parse JSON input: the body must be a JSON object, not %s", te.Value)
		}
		return nil, badRequest("failed to parse JSON input: malformed JSON")
	}
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	return fields, nil
}

// wipeFields wipes the values of decoded fields.
func wipeFields(fields map[string]json.RawMessage) {
	for _, v := range fields {
		clear(v)
	}
}

// isNull reports whether a field is absent or null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// kind returns the JSON type of a value by its first byte.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// dataField returns the "data" member of a write: a JSON object, exactly the
// bytes the client sent.
func dataField(fields map[string]json.RawMessage) (json.RawMessage, error) {
	raw := fields["data"]
	if isNull(raw) {
		return nil, errNoData
	}
	if k := kind(raw); k != "object" {
		return nil, badRequest("data must be a JSON object, not %s", withArticle(k))
	}
	return raw, nil
}

func withArticle(k string) string {
	switch k {
	case "null":
		return k
	case "array", "object":
		return "an " + k
	}
	return "a " + k
}

// casOption returns the check-and-set revision of a write's "options", if
// any. Like Vault, it takes a number or a numeric string; null, "" and false
// read as 0, true as 1. A revision no secret can have never matches.
func casOption(fields map[string]json.RawMessage) (*uint32, error) {
	raw, ok := fields["options"]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var opts map[string]json.RawMessage
	if err := json.Unmarshal(raw, &opts); err != nil {
		return nil, badRequest("options must be a JSON object")
	}
	raw, ok = opts["cas"]
	if !ok {
		return nil, nil
	}
	n, err := weakInt(raw)
	if err != nil {
		return nil, badRequest("error parsing check-and-set parameter")
	}
	if n < 0 || n > math.MaxUint32 {
		return nil, coffer.Precondition(coffer.PreconditionCASMismatch, "secret", "", "check-and-set parameter did not match the current version")
	}
	cas := uint32(n)
	return &cas, nil
}

// weakInt reads an integer as Vault's weak decoding does: a number without
// a fraction, a string of one, a boolean, or null (0).
func weakInt(raw json.RawMessage) (int64, error) {
	switch kind(raw) {
	case "null":
		return 0, nil
	case "boolean":
		if bytes.Equal(bytes.TrimSpace(raw), []byte("true")) {
			return 1, nil
		}
		return 0, nil
	case "number":
		return parseInteger(string(bytes.TrimSpace(raw)))
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		if s = strings.TrimSpace(s); s == "" {
			return 0, nil
		}
		return parseInteger(s)
	}
	return 0, errors.New("not an integer")
}

// parseInteger reads a decimal integer, also written as a number with a
// zero fraction or an exponent ("3.0", "1e3").
func parseInteger(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, errors.New("not an integer")
	}
	return int64(f), nil
}

// intField reads an integer field, or nil when it is absent.
func intField(fields map[string]json.RawMessage, name string) (*int64, error) {
	raw, ok := fields[name]
	if !ok {
		return nil, nil
	}
	n, err := weakInt(raw)
	if err != nil {
		return nil, badRequest("error converting input for field %q: want an integer", name)
	}
	return &n, nil
}

// boolField reads a boolean field, also written as a string such as
// "true", or nil when it is absent.
func boolField(fields map[string]json.RawMessage, name string) (*bool, error) {
	raw, ok := fields[name]
	if !ok {
		return nil, nil
	}
	var b bool
	switch kind(raw) {
	case "boolean":
		b = bytes.Equal(bytes.TrimSpace(raw), []byte("true"))
	case "null":
	case "string":
		var s string
		err := json.Unmarshal(raw, &s)
		if err == nil {
			b, err = strconv.ParseBool(strings.TrimSpace(s))
		}
		if err != nil {
			return nil, badRequest("error converting input for field %q: want a boolean", name)
		}
	case "number":
		n, err := weakInt(raw)
		if err != nil {
			return nil, badRequest("error converting input for field %q: want a boolean", name)
		}
		b = n != 0
	default:
		return nil, badRequest("error converting input for field %q: want a boolean", name)
	}
	return &b, nil
}

// maxDuration bounds durations: a hundred years.
const maxDuration = 100 * 365 * 24 * time.Hour

// durationField reads a duration field, or nil when it is absent: seconds as
// a number or a string of digits, or a Go duration string such as "1h30m"
// (with "d" for days too). Like Vault, it keeps whole seconds.
func durationField(fields map[string]json.RawMessage, name string) (*time.Duration, error) {
	raw, ok := fields[name]
	if !ok {
		return nil, nil
	}
	bad := badRequest("error converting input for field %q: want seconds or a duration such as \"1h30m\"", name)
	var d time.Duration
	switch kind(raw) {
	case "null":
	case "number":
		n, err := weakInt(raw)
		if err != nil || n > int64(maxDuration/time.Second) || n < -int64(maxDuration/time.Second) {
			return nil, bad
		}
		d = time.Duration(n) * time.Second
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, bad
		}
		var err error
		if d, err = parseDuration(strings.TrimSpace(s)); err != nil {
			return nil, bad
		}
	default:
		return nil, bad
	}
	d = d.Truncate(time.Second)
	return &d, nil
}

// parseDuration reads "", "90" (seconds), "90s", "1h30m" or "2d".
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > 64 {
		return 0, errors.New("too long")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(maxDuration/time.Second) || n < -int64(maxDuration/time.Second) {
			return 0, errors.New("out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n > int64(maxDuration/(24*time.Hour)) || n < -int64(maxDuration/(24*time.Hour)) {
			return 0, errors.New("invalid days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d > maxDuration || d < -maxDuration {
		return 0, errors.New("invalid duration")
	}
	return d, nil
}

// versionsField reads the "versions" of delete, undelete and destroy: an
// array of numbers or numeric strings, a comma-separated string, or one
// number. It reports whether any version was named; numbers no version can
// have are named but left out, as they match nothing.
func versionsField(fields map[string]json.RawMessage) (versions []uint32, named bool, err error) {
	raw, ok := fields["versions"]
	if !ok || isNull(raw) {
		return nil, false, nil
	}
	var items []json.RawMessage
	switch kind(raw) {
	case "array":
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, false, errVersions
		}
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, errVersions
		}
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				items = append(items, json.RawMessage(strconv.Quote(part)))
			}
		}
	case "number":
		items = []json.RawMessage{raw}
	default:
		return nil, false, errVersions
	}
	seen := map[uint32]bool{}
	out := []uint32{}
	for _, it := range items {
		if k := kind(it); k != "number" && k != "string" {
			return nil, false, errVersions
		}
		n, err := weakInt(it)
		if err != nil {
			return nil, false, errVersions
		}
		if n <= 0 || n > math.MaxUint32 || seen[uint32(n)] {
			continue
		}
		seen[uint32(n)] = true
		out = append(out, uint32(n))
	}
	return out, len(items) > 0, nil
}

var errVersions = badRequest(`error converting input for field "versions": want version numbers`)

// customMetadata reads custom_metadata values as Vault does: strings, and
// numbers and booleans written as strings. Null values are kept, as nil,
// for a merge.
func customMetadata(raw json.RawMessage) (map[string]*string, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil || in == nil {
		return nil, badRequest("custom_metadata validation failed: custom_metadata must be a JSON object")
	}
	out := make(map[string]*string, len(in))
	for k, v := range in {
		var s string
		switch kind(v) {
		case "null":
			out[k] = nil
			continue
		case "string":
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, badRequest("custom_metadata validation failed: the value of %q is not a string", truncate(k, 64))
			}
		case "number":
			s = string(bytes.TrimSpace(v))
		case "boolean":
			s = "0"
			if bytes.Equal(bytes.TrimSpace(v), []byte("true")) {
				s = "1"
			}
		default:
			return nil, badRequest("custom_metadata validation failed: the value of %q is not a string", truncate(k, 64))
		}
		out[k] = &s
	}
	return out, nil
}

// metadataFields reads the fields of a metadata write. With merge (PATCH),
// custom_metadata changes single keys, a null value removing its key;
// otherwise it replaces the whole map. Null clears it either way. It
// reports whether any field was given, and whether cas_required was set to
// false.
func metadataFields(fields map[string]json.RawMessage, merge bool) (u coffer.SecretUpdate, any bool, casOff bool, err error) {
	n, err := intField(fields, "max_versions")
	if err != nil {
		return u, false, false, err
	}
	if n != nil {
		if *n < math.MinInt32 || *n > math.MaxInt32 {
			return u, false, false, badRequest("max_versions is out of range")
		}
		u.MaxVersions = ptr(int(*n))
	}
	if u.CASRequired, err = boolField(fields, "cas_required"); err != nil {
		return u, false, false, err
	}
	name := "delete_version_after"
	if _, ok := fields[name]; !ok {
		name = "deactivate_version_after" // OKMS's name for it
	}
	if u.VersionTTL, err = durationField(fields, name); err != nil {
		return u, false, false, err
	}
	if u.VersionTTL != nil && *u.VersionTTL < 0 {
		return u, false, false, badRequest("%s must not be negative", name)
	}
	if raw, ok := fields["custom_metadata"]; ok {
		switch {
		case isNull(raw):
			u.CustomMetadata = ptr(map[string]string{})
		case merge:
			if u.CustomMetadataMerge, err = customMetadata(raw); err != nil {
				return u, false, false, err
			}
		default:
			m, err := customMetadata(raw)
			if err != nil {
				return u, false, false, err
			}
			cm := make(map[string]string, len(m))
			for k, v := range m {
				if v == nil {
					return u, false, false, badRequest("custom_metadata validation failed: length of value for key %q is 0 but must be 0 < len(value) <= 512", truncate(k, 64))
				}
				cm[k] = *v
			}
			u.CustomMetadata = &cm
		}
	}
	any = u.MaxVersions != nil || u.CASRequired != nil || u.VersionTTL != nil || u.CustomMetadata != nil || u.CustomMetadataMerge != nil
	return u, any, u.CASRequired != nil && !*u.CASRequired, nil
}

// queryInt reads a non-negative integer query parameter; absent is 0.
func queryInt(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest("error converting input %q for field %q: want an integer", truncate(s, 32), name)
	}
	return n, nil
}

// queryBool reads a boolean query parameter; absent is false.
func queryBool(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badRequest("error converting input %q for field %q: want a boolean", truncate(s, 32), name)
	}
	return b, nil
}

// queryVersion reads the "version" of a read: 0, absent or negative mean
// the current version.
func queryVersion(r *http.Request) (uint32, error) {
	n, err := queryInt(r, "version")
	if err != nil || n <= 0 {
		return 0, err
	}
	if n > math.MaxUint32 {
		return math.MaxUint32, nil // no such version: it reads as not found
	}
	return uint32(n), nil
}

// parseKey splits a KV path "a/b/c" into the folder "/a/b" and the name
// "c". It refuses empty, "." and ".." segments, and a leading or trailing
// slash, rather than resolve them; the engine checks the characters.
func parseKey(p string) (folder, name string, err error) {
	if p == "" {
		return "", "", badRequest("missing path")
	}
	if err := checkSegments(p); err != nil {
		return "", "", err
	}
	folder, name = coffer.SplitFullPath(p)
	return folder, name, nil
}

// parseFolder reads the folder of a listing: "" or "/" is the root, "a/b"
// and "a/b/" the folder "/a/b".
func parseFolder(p string) (string, error) {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "/", nil
	}
	if err := checkSegments(p); err != nil {
		return "", err
	}
	return "/" + p, nil
}

// maxPathLen bounds a KV path: a folder and a name at their longest.
const maxPathLen = 1024 + 256

func checkSegments(p string) error {
	if len(p) > maxPathLen {
		return badRequest("invalid path: at most %d characters", maxPathLen)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return badRequest("invalid path %q: empty, \".\" and \"..\" segments are not allowed", truncate(p, 128))
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
