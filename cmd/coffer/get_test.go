package main

import (
	"strings"
	"testing"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
)

func TestGet(t *testing.T) {
	t.Parallel()
	c, _ := newCLI(t)
	const (
		v1 = `{"user":"app","password":"first-canary","port":"5432"}`
		v2 = `{"user":"app2","password":"second-canary","quote":"say \"hi\"\n"}`
	)
	db := decode[secret.Secret](t, c.ok("secret", "create", "--name", "db", "--path", "/prod", "--type", "key_value", "--json")).ID
	c.ok("version", "create", "--secret", db, "--data", v1)
	c.ok("version", "create", "--secret", db, "--data", v2)
	opaque := decode[secret.Secret](t, c.ok("secret", "create", "--name", "token", "--json")).ID
	c.ok("version", "create", "--secret", opaque, "--data", "not-json-canary")
	c.ok("version", "create", "--secret", opaque, "--data", `["array-canary"]`)
	// Any secret whose value is a JSON object has fields.
	c.ok("secret", "create", "--name", "doc")
	c.ok("version", "create", "--secret", "/doc", "--data", `{"n": 5432, "tls": true, "note": null, "hosts": ["a", "b"], "s": "x"}`)

	for _, tt := range []struct{ ref, want string }{
		{db + "#password", "second-canary"},
		{"/prod/db#password", "second-canary"},
		{"prod/db#user", "app2"},
		{"/prod/db#quote", "say \"hi\"\n"},
		{"/prod/db@1#user", "app"},
		{db + "@1#password", "first-canary"},
		{"/prod/db@latest#user", "app2"},
		{"/prod/db@1#port", "5432"},
		{"/doc#n", "5432"},
		{"/doc#tls", "true"},
		{"/doc#note", "null"},
		{"/doc#hosts", `["a","b"]`},
		{"doc#s", "x"},
		{"/prod/db@1", v1},
		{db, v2},
		{"/token@1", "not-json-canary"},
	} {
		if out := c.ok("get", tt.ref); out != tt.want {
			t.Errorf("coffer get %s = %q, want %q", tt.ref, out, tt.want)
		}
	}

	t.Run("default revision", func(t *testing.T) {
		// Without @REVISION, get reads the latest enabled version.
		c.ok("version", "disable", "--secret", db, "--revision", "2")
		if out := c.ok("get", "/prod/db#user"); out != "app" {
			t.Errorf("with revision 2 disabled: %q, want app", out)
		}
		errOut := c.fail(1, "get", "/prod/db@latest#user")
		mustContain(t, errOut, "precondition is not respected", "disabled", "HTTP 412")
		c.ok("version", "enable", "--secret", db, "--revision", "2")
	})

	t.Run("errors", func(t *testing.T) {
		for _, tt := range []struct {
			ref  string
			want []string
		}{
			{"/prod/db#nope", []string{`/prod/db (revision 2): the value has no field "nope"`}},
			{db + "@1#Password", []string{db + ` (revision 1): the value has no field "Password"`}},
			{"/token@1#field", []string{`/token (revision 1): the value is not a JSON object, so it has no field "field"`}},
			{"/token#0", []string{`/token (revision 2): the value is not a JSON object, so it has no field "0"`}},
			{"/prod/missing#password", []string{"access /prod/missing@latest_enabled: resource is not found", "HTTP 404"}},
			{"/prod/db@7", []string{"resource is not found", "HTTP 404"}},
		} {
			errOut := c.fail(1, "get", tt.ref)
			mustContain(t, errOut, tt.want...)
			mustNotContain(t, errOut, "canary")
		}
	})
}

func TestField(t *testing.T) {
	for _, tt := range []struct {
		data, field, want, err string
	}{
		{`{"a":"x"}`, "a", "x", ""},
		{`{"a": {"b": [1, 2]}}`, "a", `{"b":[1,2]}`, ""},
		{`{"a":"x","a":"y"}`, "a", "y", ""},
		{`{"":"empty key"}`, "", "empty key", ""},
		{`{"a":"\u00e9"}`, "a", "é", ""},
		{`{"a":null}`, "a", "null", ""},
		{`{"a":false}`, "a", "false", ""},
		{`{"a":1}`, "b", "", `the value has no field "b"`},
		{`null`, "a", "", "not a JSON object"},
		{`"a"`, "a", "", "not a JSON object"},
		{`{"a":1`, "a", "", "not a JSON object"},
		{``, "a", "", "not a JSON object"},
	} {
		got, err := field([]byte(tt.data), tt.field)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("field(%q, %q) error = %v, want %q", tt.data, tt.field, err, tt.err)
		case tt.err == "" && (err != nil || string(got) != tt.want):
			t.Errorf("field(%q, %q) = %q, %v; want %q", tt.data, tt.field, got, err, tt.want)
		}
	}
}
