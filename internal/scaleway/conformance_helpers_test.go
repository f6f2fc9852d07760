package scaleway_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// cassette is a go-vcr recording, in format version 1 or 2. Both versions
// share the fields read here; version 1 has no interaction id.
type cassette struct {
	Version      int           `yaml:"version"`
	Interactions []interaction `yaml:"interactions"`
}

type interaction struct {
	ID       *int             `yaml:"id"`
	Request  recordedRequest  `yaml:"request"`
	Response recordedResponse `yaml:"response"`
}

type recordedRequest struct {
	Method  string              `yaml:"method"`
	URL     string              `yaml:"url"`
	Headers map[string][]string `yaml:"headers"`
	Body    string              `yaml:"body"`
}

type recordedResponse struct {
	Code    int                 `yaml:"code"`
	Headers map[string][]string `yaml:"headers"`
	Body    string              `yaml:"body"`
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	// wholeUUIDRE matches a value that is exactly one UUID.
	wholeUUIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// timestampRE is the service's timestamp form: UTC, microseconds.
	timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
)

// idKeys hold resource ids: a recorded id and ours at the same place teach
// the replay which of our ids stands for the recorded one, and once known
// the mapping must hold everywhere.
var idKeys = map[string]bool{"id": true, "secret_id": true, "project_id": true, "key_id": true, "resource_id": true}

// valueKeys are compared by value (after id substitution); every other
// field is compared by shape only.
var valueKeys = map[string]bool{
	"name": true, "path": true, "tags": true, "status": true, "version_count": true,
	"revision": true, "latest": true, "description": true, "type": true, "protected": true,
	"managed": true, "ephemeral_policy": true, "total_count": true, "data": true,
	// Error bodies: type (above), the failed precondition, the resource of a
	// not_found and the argument of an invalid_arguments detail.
	"precondition": true, "resource": true, "argument_name": true,
	// The region echoed from the path, the reason of an invalid_arguments
	// detail, and the three constants of GET /metadata, which feed the SRN
	// the SDK builds.
	"region": true, "reason": true, "platform": true, "partition": true, "domain": true,
}

// newerKeys are the keys coffer may send that a recorded object lacks,
// because the API added them after the recording was made. Only the 2024
// CLI recording lacks any of them; the October 2026 one is the only one
// with srn. Keyed by the kind of object (see objectKind).
var newerKeys = map[string]map[string]bool{
	// Secret: srn appeared in October 2026; used_by, deletion_requested_at
	// and key_id after April 2024.
	"secret": {"srn": true, "used_by": true, "deletion_requested_at": true, "key_id": true},
	// SecretVersion: deleted_at, deletion_requested_at and region appeared
	// after April 2024.
	"version": {"deleted_at": true, "deletion_requested_at": true, "region": true},
	// AccessSecretVersionResponse: type appeared after April 2024.
	"access": {"type": true},
}

// objectKind names the resource a recorded JSON object is, from its keys.
func objectKind(m map[string]any) string {
	has := func(k string) bool { _, ok := m[k]; return ok }
	switch {
	case has("data") && has("revision"):
		return "access"
	case has("revision") && has("secret_id"):
		return "version"
	case has("version_count") && has("project_id"):
		return "secret"
	}
	return ""
}

// decodeJSONValue decodes one JSON value, keeping numbers as written.
func decodeJSONValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

// jsonKind names the JSON kind of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// comparer compares a recorded JSON body with ours and collects the
// differences, one line each, located by a JSON path.
//
// Timestamps are matched one to one, like ids: the same recorded instant
// must be the same instant of ours, two recorded instants two of ours. This
// checks which calls change updated_at (PATCH and DELETE do; unprotect and
// new versions do not) and that a deletion sets updated_at and
// deletion_requested_at to one instant, as recorded.
type comparer struct {
	ids   *bijection // recorded id -> our id
	times *bijection // recorded timestamp -> our timestamp
	diffs []string
}

func (c *comparer) errorf(path, format string, args ...any) {
	c.diffs = append(c.diffs, path+": "+fmt.Sprintf(format, args...))
}

// compare checks that got has the shape of rec: the same kinds, null where
// rec has null, arrays of the same length, the same keys (ours may add the
// newer keys); values for valueKeys; consistent ids and timestamps.
func (c *comparer) compare(path, key string, rec, got any) {
	if rk, gk := jsonKind(rec), jsonKind(got); rk != gk {
		c.errorf(path, "recorded %s %s, got %s %s", rk, jsonString(rec), gk, jsonString(got))
		return
	}
	switch rec := rec.(type) {
	case map[string]any:
		c.object(path, rec, got.(map[string]any))
	case []any:
		got := got.([]any)
		if len(rec) != len(got) {
			c.errorf(path, "recorded %d elements %s, got %d elements %s", len(rec), jsonString(c.substitute(rec)), len(got), jsonString(got))
			return
		}
		for i := range rec {
			c.compare(fmt.Sprintf("%s[%d]", path, i), "", rec[i], got[i])
		}
	case string:
		got := got.(string)
		switch {
		case idKeys[key] && wholeUUIDRE.MatchString(rec):
			if err := c.ids.match(rec, got); err != nil {
				c.errorf(path, "id: %v", err)
			}
		case timestampRE.MatchString(rec):
			if !timestampRE.MatchString(got) {
				c.errorf(path, "timestamp %q is not of the form 2006-01-02T15:04:05.000000Z", got)
			} else if err := c.times.match(rec, got); err != nil {
				c.errorf(path, "timestamp: %v", err)
			}
		}
	}
	if valueKeys[key] {
		if want := c.substitute(rec); !reflect.DeepEqual(want, got) {
			c.errorf(path, "recorded value %s, got %s", jsonString(want), jsonString(got))
		}
	}
}

func (c *comparer) object(path string, rec, got map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(rec)) {
		g, ok := got[k]
		if !ok {
			c.errorf(path+"."+k, "missing; recorded %s", jsonString(rec[k]))
			continue
		}
		c.compare(path+"."+k, k, rec[k], g)
	}
	allowed := newerKeys[objectKind(rec)]
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := rec[k]; !ok && !allowed[k] {
			c.errorf(path+"."+k, "not in the recording; got %s", jsonString(got[k]))
		}
	}
}

// substitute returns a copy of a recorded value with recorded ids replaced
// by ours.
func (c *comparer) substitute(v any) any {
	switch v := v.(type) {
	case string:
		return c.ids.replace(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = c.substitute(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = c.substitute(e)
		}
		return out
	}
	return v
}

// bijection maps recorded values to ours one to one: the same recorded
// value must always stand for the same value of ours, and two recorded
// values for two different ones.
type bijection struct {
	fwd, back map[string]string
}

func newBijection() *bijection {
	return &bijection{fwd: map[string]string{}, back: map[string]string{}}
}

func (b *bijection) add(rec, got string) {
	b.fwd[rec] = got
	b.back[got] = rec
}

// match checks got against what rec stands for, and learns it when rec is
// new.
func (b *bijection) match(rec, got string) error {
	if want, ok := b.fwd[rec]; ok {
		if want != got {
			return fmt.Errorf("recorded %s stands for %s, got %s", rec, want, got)
		}
		return nil
	}
	if prev, ok := b.back[got]; ok {
		return fmt.Errorf("got %s, which stands for recorded %s, where the recording has a different value %s", got, prev, rec)
	}
	b.add(rec, got)
	return nil
}

// replace replaces every known recorded value in s by ours. Only ids are
// replaced this way: UUIDs cannot overlap.
func (b *bijection) replace(s string) string {
	if !uuidRE.MatchString(s) {
		return s
	}
	return uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if v, ok := b.fwd[id]; ok {
			return v
		}
		return id
	})
}

// clipBody shortens a body for an error message.
func clipBody(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
