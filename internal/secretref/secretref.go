// Package secretref parses references to secrets as the command-line client
// reads them: TARGET[@REVISION][#FIELD], where TARGET is a secret id (a UUID)
// or a path [/]folder/.../name.
//
//	3f0d8a0e-5a39-4c41-9d8e-2b1f3c1a7e55#password   field of the latest version, by id
//	/prod/db@2#user                                field of revision 2, by path
//	prod/db                                        the whole value of /prod/db
//	db@latest                                      the secret "db" in the root folder
//
// A target with a leading '/' is always a path, so "/<uuid>" names a secret
// whose name happens to look like an id. Paths are refused, never resolved,
// when they hold "." or ".." segments, empty segments or characters outside
// [A-Za-z0-9._-]; everything after the first '#' is the field.
package secretref

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/coffer-dev/coffer"
)

// maxSegment is the longest path segment or name the server accepts.
const maxSegment = 255

// Ref is a parsed reference. Exactly one of SecretID and Name is set.
type Ref struct {
	// SecretID is the secret's id, in lower case, when the target is an id.
	SecretID string
	// Path is the folder ("/" for the root, no trailing slash) and Name the
	// secret's name, when the target is a path.
	Path string
	Name string
	// Revision is "" (the caller's default), a revision number, "latest" or
	// "latest_enabled".
	Revision string
	// Field is the key of a key-value secret to select; "" for the whole
	// value.
	Field string
}

// Parse parses a reference. Its errors describe what is wrong with s.
func Parse(s string) (Ref, error) {
	var r Ref
	if s == "" {
		return r, errors.New("empty secret reference")
	}
	target, field, hasField := strings.Cut(s, "#")
	if hasField {
		if field == "" {
			return r, fmt.Errorf("secret reference %q: empty field after '#'", s)
		}
		if !utf8.ValidString(field) {
			return r, fmt.Errorf("secret reference %q: the field is not valid UTF-8", s)
		}
		r.Field = field
	}
	target, rev, hasRev := strings.Cut(target, "@")
	if hasRev {
		if rev == "" {
			return r, fmt.Errorf("secret reference %q: empty revision after '@'", s)
		}
		v, err := coffer.ParseRevision(rev)
		if err != nil {
			return r, fmt.Errorf("secret reference %q: invalid revision %q: want a positive number, latest or latest_enabled", s, rev)
		}
		r.Revision = v.String()
	}
	if isUUID(target) {
		r.SecretID = strings.ToLower(target)
		return r, nil
	}
	p := strings.TrimPrefix(target, "/")
	if p == "" {
		return r, fmt.Errorf("secret reference %q: missing secret id or name", s)
	}
	segs := strings.Split(p, "/")
	for _, seg := range segs {
		if err := checkSegment(seg); err != nil {
			return r, fmt.Errorf("secret reference %q: %w", s, err)
		}
	}
	r.Name = segs[len(segs)-1]
	r.Path = "/" + strings.Join(segs[:len(segs)-1], "/")
	return r, nil
}

// checkSegment checks one folder or the name of a path.
func checkSegment(seg string) error {
	switch seg {
	case "":
		return errors.New("empty path segment")
	case ".", "..":
		return fmt.Errorf("%q segments are not allowed", seg)
	}
	if len(seg) > maxSegment {
		return fmt.Errorf("path segments and names are at most %d characters", maxSegment)
	}
	for i := 0; i < len(seg); i++ {
		if !segmentByte(seg[i]) {
			return errors.New("path segments and names are letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

func segmentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hexadecimal form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Target returns the secret part of the reference: the id, or the path
// with its name (always with a leading '/').
func (r Ref) Target() string {
	switch {
	case r.SecretID != "":
		return r.SecretID
	case r.Path == "" || r.Path == "/":
		return "/" + r.Name
	}
	return r.Path + "/" + r.Name
}

// String returns the reference in the form Parse reads.
func (r Ref) String() string {
	s := r.Target()
	if r.Revision != "" {
		s += "@" + r.Revision
	}
	if r.Field != "" {
		s += "#" + r.Field
	}
	return s
}
