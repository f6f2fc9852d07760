package engine

import (
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
)

func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"}, {"/", "/"}, {"/a", "/a"}, {"/a/", "/a"}, {"/a/b.c/d_e-f", "/a/b.c/d_e-f"},
		{"a", ""}, {"/a//b", ""}, {"/..", ""}, {"/a/../b", ""}, {"/a/./b", ""}, {"/%2e%2e", ""},
		{"/a b", ""}, {"/a\x00", ""}, {"//", ""}, {"/" + strings.Repeat("x", 256), ""},
		{"/é", ""}, {"\\a", ""},
	} {
		got, err := NormalizePath("path", tc.in)
		if tc.want == "" {
			if err == nil || coffer.ErrorCode(err) != coffer.EINVALID {
				t.Errorf("NormalizePath(%q) = %q, %v; want EINVALID", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"", "/", "/a/b", "/a/../b", "/a//b/", "/%2e", "/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizePath("path", in)
		if err != nil {
			if coffer.ErrorCode(err) != coffer.EINVALID {
				t.Fatalf("error of code %s", coffer.ErrorCode(err))
			}
			return
		}
		// A normalized path is stable, absolute and free of dot segments.
		if again, err := NormalizePath("path", got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
		if !strings.HasPrefix(got, "/") || strings.Contains(got, "//") {
			t.Fatalf("bad normalized path %q", got)
		}
		for _, seg := range strings.Split(got[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("dot segment in %q", got)
			}
		}
	})
}

func TestValidatePayload(t *testing.T) {
	const key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n"
	const cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQQ==\n-----END CERTIFICATE-----\n"
	for _, tc := range []struct {
		typ  coffer.SecretType
		data string
		ok   bool
	}{
		{coffer.TypeOpaque, "\x00\xff anything", true},
		{coffer.TypeKeyValue, `{"a":"b","n":1,"t":true,"z":null}`, true},
		{coffer.TypeKeyValue, `{"key": "value", "invalid": {}}`, false},
		{coffer.TypeKeyValue, `{"a":[1]}`, false},
		{coffer.TypeKeyValue, `["a"]`, false},
		{coffer.TypeKeyValue, `{"a":"b"} {}`, false},
		{coffer.TypeKeyValue, `not json`, false},
		{coffer.TypeKeyValue, "{\"a\":\"\xff\"}", false},
		{coffer.TypeKeyValue, "{\"\xc3\":\"b\"}", false},
		{coffer.TypeBasicCredentials, "{\"username\":\"u\",\"password\":\"\xfe\"}", false},
		{coffer.TypeBasicCredentials, `{"username":"u","password":"p"}`, true},
		{coffer.TypeBasicCredentials, `{"username":"u"}`, false},
		{coffer.TypeBasicCredentials, `{"username":"u","password":1}`, false},
		{coffer.TypeBasicCredentials, `{"username":"u","password":"p","x":"y"}`, false},
		{coffer.TypeDatabaseCredentials, `{"engine":"postgres","username":"u","password":"p","host":"h","dbname":"d","port":"5432"}`, true},
		{coffer.TypeDatabaseCredentials, `{"engine":"postgres","username":"u","password":"p","host":"h","dbname":"d","port":"54a"}`, false},
		{coffer.TypeDatabaseCredentials, `{"engine":"postgres","username":"u","password":"p","host":"h","dbname":"d","port":5432}`, false},
		{coffer.TypeSSHKey, `{"ssh_private_key":` + jsonString(key) + `}`, true},
		{coffer.TypeSSHKey, `{"ssh_private_key":"ssh-ed25519 AAAA"}`, false},
		{coffer.TypeCertificate, cert + cert, true},
		{coffer.TypeCertificate, cert + "trailing garbage", false},
		{coffer.TypeCertificate, "", false},
	} {
		err := validatePayload(tc.typ, []byte(tc.data))
		if tc.ok != (err == nil) {
			t.Errorf("validatePayload(%s, %q) = %v, want ok=%v", tc.typ, tc.data, err, tc.ok)
		}
		if err != nil {
			e := coffer.AsError(err)
			if e == nil || e.Code != coffer.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "data" {
				t.Errorf("validatePayload(%s): error %v must be EINVALID on field data", tc.typ, err)
			}
			if strings.Contains(e.Message, "value") && tc.typ == coffer.TypeKeyValue && strings.Contains(tc.data, `"value"`) && strings.Contains(e.Message, `"value"`) {
				t.Errorf("error message repeats a value: %q", e.Message)
			}
		}
	}
	// The recorded message of the real service for a nested object.
	err := validatePayload(coffer.TypeKeyValue, []byte(`{"key": "value", "invalid": {}}`))
	if got := coffer.AsError(err).Fields[0].Message; got != "- invalid: Invalid type. Expected: string, given: object\n" {
		t.Errorf("message %q", got)
	}
}

func jsonString(s string) string {
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}

// TestCheckVersionData checks the form of a JSON object write (Vault,
// OKMS): one JSON object in UTF-8; opaque bytes written without the flag
// may be anything.
func TestCheckVersionData(t *testing.T) {
	e := &Engine{limits: Limits{MaxPayloadSize: 1 << 10}}
	for _, tc := range []struct {
		data string
		json bool
		ok   bool
	}{
		{`{"a":"b"}`, true, true},
		{`{"a":{"b":[1]}}`, true, true},
		{"{\"a\":\"\xff\"}", true, false},
		{"{\"a\":\"\xff\"}", false, true},
		{`["a"]`, true, false},
		{`{"a":1} {}`, true, false},
		{"\x00\xff", false, true},
	} {
		err := e.checkVersionData(coffer.VersionCreate{Data: coffer.Payload(tc.data), JSONObject: tc.json})
		if tc.ok != (err == nil) || err != nil && coffer.ErrorCode(err) != coffer.EINVALID {
			t.Errorf("checkVersionData(%q, JSONObject %v) = %v, want ok=%v", tc.data, tc.json, err, tc.ok)
		}
	}
}

func TestValidateDisplayName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"admin", true}, {"Équipe paie", true}, {"a b-c_d.e", true}, {strings.Repeat("x", 255), true},
		{"", false}, {strings.Repeat("x", 256), false}, {"a\x00b", false}, {"a\nb", false}, {"a\tb", false},
		{"a\x1b[31mb", false}, {"a\x7fb", false}, {"a\u0085b", false}, {"a\xffb", false},
	} {
		err := validateDisplayName("name", tc.name)
		if tc.ok != (err == nil) || err != nil && coffer.ErrorCode(err) != coffer.EINVALID {
			t.Errorf("validateDisplayName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if _, err := normalizeTags([]string{"ok", "a\u0085b"}); coffer.ErrorCode(err) != coffer.EINVALID {
		t.Errorf("a tag with a C1 control character: %v", err)
	}
}
