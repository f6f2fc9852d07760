package vaultkv

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
)

// FuzzParseKey checks the path parser: it never panics, and a path it
// accepts has no empty, "." or ".." segment, and splits into a folder and a
// name that join back into it.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"a", "a/b/c", "", "/", "a/", "/a", "a//b", "..", "a/../b", "./a", "a/.", "...", "a/.b/c.", strings.Repeat("x/", 700)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		folder, name, err := parseKey(p)
		if err != nil {
			var se *statusError
			if !asStatus(err, &se) || se.status != http.StatusBadRequest {
				t.Fatalf("parseKey(%q): %v, want a 400", p, err)
			}
			return
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("parseKey(%q) accepted a segment %q", p, seg)
			}
		}
		s := &coffer.Secret{Path: folder, Name: name}
		if s.FullPath() != p || strings.Contains(name, "/") || !strings.HasPrefix(folder, "/") {
			t.Fatalf("parseKey(%q) = %q, %q", p, folder, name)
		}
		if f, err := parseFolder(p); err != nil || f != "/"+p {
			t.Fatalf("parseFolder(%q) = %q, %v", p, f, err)
		}
	})
}

// FuzzDecodeBody checks the body decoder and every field parser on what it
// decodes: they never panic, refuse with a 400, and what they accept is
// what was sent.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"data":{"a":"b"},"options":{"cas":1}}`,
		`{"data":{"a":{"b":[1,2]}},"options":{"cas":"2"}}`, `{"data":1}`, `{"options":{"cas":null}}`,
		`{"options":{"cas":1e3}}`, `{"options":{"cas":-1}}`, `{"options":{"cas":"x"}}`,
		`{"versions":[1,"2"," 3 "]}`, `{"versions":"1,2,,3"}`, `{"versions":7}`, `{"versions":[{}]}`,
		`{"max_versions":"5","cas_required":"true","delete_version_after":"1h30m"}`,
		`{"delete_version_after":3600,"custom_metadata":{"a":"b","c":1,"d":true,"e":null}}`,
		`{"delete_version_after":"2d","custom_metadata":null}`, `{"custom_metadata":[1]}`,
		`{"data":{"a":"\ud800"}}`, "{\"data\":{\"a\":\"\xff\"}}", `{"a":1} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields, err := decodeFields(body)
		if err != nil {
			wantBadRequest(t, err)
			return
		}
		if fields == nil {
			t.Fatal("decodeFields returned nil fields")
		}
		if data, err := dataField(fields); err != nil {
			wantBadRequest(t, err)
		} else {
			var obj map[string]json.RawMessage
			if json.Unmarshal(data, &obj) != nil || obj == nil {
				t.Fatalf("dataField accepted %q, not a JSON object", data)
			}
			if string(data) != string(fields["data"]) {
				t.Fatalf("dataField changed %q into %q", fields["data"], data)
			}
		}
		if cas, err := casOption(fields); err != nil {
			if coffer.ErrorCode(err) != coffer.EPRECONDITION {
				wantBadRequest(t, err)
			}
		} else if cas != nil && fields["options"] == nil {
			t.Fatal("a cas without options")
		}
		if _, _, err := versionsField(fields); err != nil {
			wantBadRequest(t, err)
		}
		for _, merge := range []bool{false, true} {
			u, given, _, err := metadataFields(fields, merge)
			if err != nil {
				wantBadRequest(t, err)
				continue
			}
			if given != (u.MaxVersions != nil || u.CASRequired != nil || u.VersionTTL != nil || u.CustomMetadata != nil || u.CustomMetadataMerge != nil) {
				t.Fatalf("metadataFields: given %v for %+v", given, u)
			}
			if u.VersionTTL != nil && *u.VersionTTL < 0 {
				t.Fatalf("metadataFields accepted a negative delete_version_after")
			}
		}
		wipeFields(fields)
	})
}

func wantBadRequest(t *testing.T, err error) {
	t.Helper()
	var se *statusError
	if !asStatus(err, &se) || se.status != http.StatusBadRequest || len(se.msgs) != 1 || se.msgs[0] == "" {
		t.Fatalf("error %v, want a 400 with a message", err)
	}
}

func asStatus(err error, target **statusError) bool {
	se, ok := err.(*statusError)
	if ok {
		*target = se
	}
	return ok
}
