package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
)

// Bounds on metadata. Values are checked in payload.go.
const (
	maxNameLen        = 255
	maxPathLen        = 1024
	maxDescriptionLen = 4096
	maxTags           = 100
	maxTagLen         = 255
	maxMetadataKeys   = 64
	maxMetadataKeyLen = 128
	maxMetadataValLen = 512
	minEphemeralTTL   = time.Second
	maxEphemeralTTL   = 365 * 24 * time.Hour
)

// validateID checks that id is a canonical UUID.
func validateID(field, id string) error {
	if id == "" {
		return coffer.Invalid(field, coffer.ReasonRequired, field+" is required")
	}
	if len(id) != 36 {
		return coffer.Invalid(field, coffer.ReasonFormat, field+" must be a UUID")
	}
	if _, err := uuid.Parse(id); err != nil {
		return coffer.Invalid(field, coffer.ReasonFormat, field+" must be a UUID")
	}
	return nil
}

// validSegment reports whether s is a path segment or a name: 1 to 255 of
// [A-Za-z0-9._-], and not "." or "..".
func validSegment(s string) bool {
	if s == "" || len(s) > maxNameLen || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validateName checks a secret name given as the argument field.
func validateName(field, name string) error {
	if name == "" {
		return coffer.Invalid(field, coffer.ReasonRequired, field+" is required")
	}
	if !validSegment(name) {
		return coffer.Invalid(field, coffer.ReasonFormat,
			field+" must be 1 to 255 characters of letters, digits, '.', '_' and '-', and not '.' or '..'")
	}
	return nil
}

// validateDisplayName checks the name of an organization, a project, a
// principal or a protection key: 1 to 255 bytes of UTF-8 without control
// characters. A NUL, an escape sequence or a line break in a name would
// reach terminals, logs and the other systems that show it (C strings end
// at a NUL). The names that are also paths (secrets, folders, key vaults,
// labels, triggers) follow the stricter rule of validSegment, which holds
// no control character either.
func validateDisplayName(field, name string) error {
	if name == "" || len(name) > maxNameLen || !utf8.ValidString(name) || hasControl(name) {
		return coffer.Invalid(field, coffer.ReasonConstraint, field+" must be 1 to 255 bytes of UTF-8 without control characters")
	}
	return nil
}

// hasControl reports whether s holds a control character: C0 (NUL to US),
// DEL or C1.
func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// NormalizePath checks a folder path and returns it in canonical form: ""
// becomes "/", a trailing slash is dropped. A path must start with "/" and
// its segments follow the name rules; "." and ".." segments, empty segments
// and anything outside the allowed characters are refused, never resolved.
func NormalizePath(field, p string) (string, error) {
	if p == "" || p == "/" {
		return "/", nil
	}
	bad := func(msg string) (string, error) {
		return "", coffer.Invalid(field, coffer.ReasonFormat, msg)
	}
	if len(p) > maxPathLen {
		return bad(fmt.Sprintf("%s must be at most %d characters", field, maxPathLen))
	}
	if p[0] != '/' {
		return bad(field + " must start with '/'")
	}
	p = strings.TrimSuffix(p, "/")
	for _, seg := range strings.Split(p[1:], "/") {
		if !validSegment(seg) {
			return bad(field + " segments must be 1 to 255 characters of letters, digits, '.', '_' and '-', and not '.' or '..'")
		}
	}
	return p, nil
}

// validateDescription checks a secret or version description.
func validateDescription(d string) error {
	if len(d) > maxDescriptionLen {
		return coffer.Invalid("description", coffer.ReasonConstraint, fmt.Sprintf("description must be at most %d bytes", maxDescriptionLen))
	}
	if !utf8.ValidString(d) {
		return coffer.Invalid("description", coffer.ReasonFormat, "description must be valid UTF-8")
	}
	return nil
}

// normalizeTags checks tags and returns them without duplicates, in the
// order given.
func normalizeTags(tags []string) ([]string, error) {
	if len(tags) > maxTags {
		return nil, coffer.Invalid("tags", coffer.ReasonConstraint, fmt.Sprintf("at most %d tags", maxTags))
	}
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if t == "" || len(t) > maxTagLen || !utf8.ValidString(t) || hasControl(t) {
			return nil, coffer.Invalid("tags", coffer.ReasonFormat, fmt.Sprintf("each tag must be 1 to %d printable characters", maxTagLen))
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// validateType returns the secret type to store: "" becomes opaque.
func validateType(t coffer.SecretType) (coffer.SecretType, error) {
	if t == "" {
		return coffer.TypeOpaque, nil
	}
	if !t.Valid() {
		return "", coffer.Invalid("type", coffer.ReasonConstraint, fmt.Sprintf("unknown secret type %q", truncate(string(t), 64)))
	}
	return t, nil
}

// validateEphemeral checks an ephemeral policy.
func validateEphemeral(p *coffer.EphemeralPolicy) error {
	if p == nil {
		return nil
	}
	if p.TTL != 0 && (p.TTL < minEphemeralTTL || p.TTL > maxEphemeralTTL) {
		return coffer.Invalid("ephemeral_policy.time_to_live", coffer.ReasonConstraint, "time_to_live must be between 1 second and 1 year")
	}
	switch p.Action {
	case coffer.EphemeralDisable, coffer.EphemeralDelete:
	case "":
		return coffer.Invalid("ephemeral_policy.action", coffer.ReasonRequired, "action is required: disable or delete")
	default:
		return coffer.Invalid("ephemeral_policy.action", coffer.ReasonConstraint, "action must be disable or delete")
	}
	return nil
}

// validateMetadata checks custom metadata against Vault's limits: at most 64
// keys, keys of 1 to 128 bytes, values of 1 to 512 bytes, all printable
// UTF-8. The messages are Vault's; the first offending key in byte order is
// named.
func validateMetadata(m map[string]string) error {
	bad := func(format string, args ...any) error {
		return coffer.Invalid("custom_metadata", coffer.ReasonConstraint, "custom_metadata validation failed: "+fmt.Sprintf(format, args...))
	}
	if len(m) > maxMetadataKeys {
		return bad("payload must contain at most %d keys, provided %d", maxMetadataKeys, len(m))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, name := m[k], truncate(k, 64)
		switch {
		case k == "" || len(k) > maxMetadataKeyLen:
			return bad("length of key %q is %d but must be 0 < len(key) <= %d", name, len(k), maxMetadataKeyLen)
		case v == "" || len(v) > maxMetadataValLen:
			return bad("length of value for key %q is %d but must be 0 < len(value) <= %d", name, len(v), maxMetadataValLen)
		case !printable(k):
			return bad("key %q contains unprintable characters", name)
		case !printable(v):
			return bad("value for key %q contains unprintable characters", name)
		}
	}
	return nil
}

// printable reports whether s is UTF-8 made of printable characters only.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
