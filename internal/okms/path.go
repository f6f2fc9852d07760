package okms

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/coffer-dev/coffer"
)

// The SDK sends a secret path as one URL segment with its slashes encoded
// ("a%2Fb"); curl users and OVH's guide send it with raw slashes ("a/b").
// Both are accepted. A raw "/version" or "/version/{n}" suffix names the
// versions of the secret; an encoded one ("a%2Fversion") is part of the
// path, so the encoded form reaches every secret, also one whose path has a
// segment named "version".
//
// Paths are read from the escaped request path, never from a cleaned one:
// empty, "." and ".." segments, encoded or not, are refused, never
// resolved.

// targetKind says what a /secret/... URL names.
type targetKind int

const (
	targetSecret   targetKind = iota // /secret/{path}
	targetVersions                   // /secret/{path}/version
	targetVersion                    // /secret/{path}/version/{version}
)

// target is a decoded /secret/... URL.
type target struct {
	kind targetKind
	// path is the secret's full path, "a/b/c".
	path    string
	version uint32
}

// folderAndName returns the coffer folder and name of the target's path.
func (t target) folderAndName() (string, string) { return coffer.SplitFullPath(t.path) }

// maxPathLen bounds a decoded secret path.
const maxPathLen = 1024

// parseTarget decodes the escaped request path, below the mount, of a
// /secret/... route: everything after /secret/. Returns EINVALID.
func parseTarget(escaped string) (target, error) {
	// "", "secret", rest
	parts := strings.SplitN(escaped, "/", 3)
	if len(parts) < 3 {
		return target{}, invalidPath("the secret path is required")
	}
	return parseSecretURL(parts[2])
}

// parseSecretURL decodes the escaped part of a URL after /secret/.
func parseSecretURL(rest string) (target, error) {
	if rest == "" {
		return target{}, invalidPath("the secret path is required")
	}
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			return target{}, invalidPath("the secret path is not a valid percent-encoded URL path")
		}
		segs[i] = d
	}
	t := target{kind: targetSecret}
	n := len(segs)
	switch {
	case n >= 3 && segs[n-2] == "version":
		v, err := parseVersion(segs[n-1])
		if err != nil {
			return target{}, err
		}
		t.kind, t.version, segs = targetVersion, v, segs[:n-2]
	case n >= 2 && segs[n-1] == "version":
		t.kind, segs = targetVersions, segs[:n-1]
	}
	p := strings.Join(segs, "/")
	if err := checkPath("path", p); err != nil {
		return target{}, err
	}
	t.path = p
	return t, nil
}

// checkPath checks the shape of a full secret path: "a/b/c", no empty, "."
// or ".." segment, no leading or trailing slash. The characters allowed in
// a segment are the engine's to check.
func checkPath(field, p string) error {
	if p == "" {
		return coffer.Invalid(field, coffer.ReasonRequired, field+" is required")
	}
	if len(p) > maxPathLen {
		return coffer.Invalid(field, coffer.ReasonConstraint, fmt.Sprintf("%s must be at most %d characters", field, maxPathLen))
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return coffer.Invalid(field, coffer.ReasonFormat, field+" must not start or end with '/' nor hold an empty segment")
		case ".", "..":
			return coffer.Invalid(field, coffer.ReasonFormat, field+" must not hold '.' or '..' segments")
		}
	}
	return nil
}

func invalidPath(msg string) error { return coffer.Invalid("path", coffer.ReasonFormat, msg) }

// parseVersion reads a version number: 1 to 4294967295, digits only.
func parseVersion(s string) (uint32, error) {
	n, ok := parseUint32(s)
	if !ok || n == 0 {
		return 0, coffer.Invalid("version", coffer.ReasonFormat, fmt.Sprintf("version must be a positive integer, not %q", clip(s, 32)))
	}
	return n, nil
}

// parseUint32 reads a decimal number without sign or leading zero.
func parseUint32(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
