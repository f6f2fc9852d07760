package coffer

import "unicode/utf8"

// CheckJSONText returns EINVALID when body, the body of a JSON request, is
// not UTF-8. JSON exchanged between systems must be UTF-8 (RFC 8259,
// section 8.1), and encoding/json does not check it: it replaces each
// invalid byte of a string it decodes with U+FFFD, silently changing a name
// or a value, and keeps a raw value (a version's data) as it came, to be
// sent back inside JSON answers that then are not JSON. Every dialect's
// decoder calls it, so that such a request is the same 400 in each.
func CheckJSONText(body []byte) error {
	if !utf8.Valid(body) {
		return Invalid("body", ReasonFormat, "the request body must be valid UTF-8")
	}
	return nil
}
