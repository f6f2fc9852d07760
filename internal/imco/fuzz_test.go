package imco

import (
	"net/http"
	"testing"

	"github.com/coffer-dev/coffer"
)

// FuzzDecodeBody checks that no body makes the decoder panic, and that
// every refusal is a field error in IMCO's {"errors"} body.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"name":"a","content":"b","label_ids":["x"],"desired_remote_id":"r"}`,
		`{"content":42}`, `{"label_ids":"x"}`, `[1]`, `{"name":`, `null`, `{"name":null}`, "\x00", `{"a":{"b":[]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []any{&secretRequest{}, &versionRequest{}, &keyVaultRequest{}, &labelRequest{}, &labelResourcesRequest{}} {
			err := decodeJSON(body, v)
			if err == nil {
				continue
			}
			if coffer.ErrorCode(err) != coffer.EINVALID {
				t.Fatalf("decode %q: %v, want EINVALID", body, err)
			}
			status, out := toError(err)
			if _, ok := out.(fieldErrorsJSON); status != http.StatusUnprocessableEntity || !ok {
				t.Fatalf("decode %q: answered %d %#v", body, status, out)
			}
		}
	})
}

// FuzzVersionID checks that parseVersionID takes back what versionID
// writes and nothing that would name another version.
func FuzzVersionID(f *testing.F) {
	f.Add("0b8a5e43-2f55-4a8b-9a77-6c1f5d4f3a21.1")
	f.Add("x.01")
	f.Add(".1")
	f.Add("a.b.4294967295")
	f.Fuzz(func(t *testing.T, id string) {
		s, rev, ok := parseVersionID(id)
		if !ok {
			return
		}
		if rev == 0 || versionID(s, rev) != id {
			t.Fatalf("parseVersionID(%q) = %q, %d: not the inverse of versionID", id, s, rev)
		}
	})
}
