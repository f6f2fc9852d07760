package coffer

import (
	"reflect"
	"strings"
	"unicode/utf8"
)

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

// JSONArgument returns the request argument that field, the Field of a
// json.UnmarshalTypeError met decoding into v, names: the path of struct
// fields, without the array indexes and map keys that newer Go releases
// append (Go 1.27 says "tags.1" where Go 1.26 said "tags"). Every dialect
// names the same argument, whichever Go release built coffer.
func JSONArgument(v any, field string) string {
	t := reflect.TypeOf(v)
	parts := strings.Split(field, ".")
	n := 0
	for _, p := range parts {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			break
		}
		f, ok := jsonStructField(t, p)
		if !ok {
			break
		}
		t, n = f.Type, n+1
	}
	if n == 0 {
		return field
	}
	return strings.Join(parts[:n], ".")
}

// jsonStructField returns the field of struct type t that encoding/json
// decodes the key name into.
func jsonStructField(t reflect.Type, name string) (reflect.StructField, bool) {
	var folded *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch key {
		case "-":
			continue
		case "":
			key = f.Name
		}
		if key == name {
			return f, true
		}
		if folded == nil && strings.EqualFold(key, name) {
			folded = &f
		}
	}
	if folded != nil {
		return *folded, true
	}
	return reflect.StructField{}, false
}
