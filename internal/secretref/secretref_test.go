package secretref_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/secretref"
)

const id = "3f0d8a0e-5a39-4c41-9d8e-2b1f3c1a7e55"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want secretref.Ref
		str  string // String() of the result; in when empty
	}{
		{in: id, want: secretref.Ref{SecretID: id}},
		{in: id + "#password", want: secretref.Ref{SecretID: id, Field: "password"}},
		{in: id + "@2#password", want: secretref.Ref{SecretID: id, Revision: "2", Field: "password"}},
		{in: strings.ToUpper(id) + "@latest", want: secretref.Ref{SecretID: id, Revision: "latest"}, str: id + "@latest"},
		{in: "/prod/db#password", want: secretref.Ref{Path: "/prod", Name: "db", Field: "password"}},
		{in: "prod/db#password", want: secretref.Ref{Path: "/prod", Name: "db", Field: "password"}, str: "/prod/db#password"},
		{in: "/a/b/c/name@1", want: secretref.Ref{Path: "/a/b/c", Name: "name", Revision: "1"}},
		{in: "db", want: secretref.Ref{Path: "/", Name: "db"}, str: "/db"},
		{in: "/db@latest_enabled", want: secretref.Ref{Path: "/", Name: "db", Revision: "latest_enabled"}},
		{in: "/" + id, want: secretref.Ref{Path: "/", Name: id}},
		{in: "/prod/" + id + "#k", want: secretref.Ref{Path: "/prod", Name: id, Field: "k"}},
		{in: "/x/.hidden/..name/a...b", want: secretref.Ref{Path: "/x/.hidden/..name", Name: "a...b"}},
		// Everything after the first '#' is the field, '@' and '#' included.
		{in: "/db#a#b@c", want: secretref.Ref{Path: "/", Name: "db", Field: "a#b@c"}},
		{in: "/db@4294967295#é", want: secretref.Ref{Path: "/", Name: "db", Revision: "4294967295", Field: "é"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := secretref.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if s := got.String(); s != want {
				t.Errorf("String() = %q, want %q", s, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // part of the error message
	}{
		{"", "empty secret reference"},
		{"/", "missing secret id or name"},
		{"#field", "missing secret id or name"},
		{"@1", "missing secret id or name"},
		{"/db#", "empty field after '#'"},
		{"/db@", "empty revision after '@'"},
		{"/db@0", "invalid revision"},
		{"/db@01", "invalid revision"},
		{"/db@-1", "invalid revision"},
		{"/db@4294967296", "invalid revision"},
		{"/db@newest", "invalid revision"},
		{"/db@1@2", "invalid revision"},
		{"/prod/../db", `".." segments are not allowed`},
		{"../db", `".." segments are not allowed`},
		{"/prod/./db", `"." segments are not allowed`},
		{"/prod/..", `".." segments are not allowed`},
		{"/prod//db", "empty path segment"},
		{"//db", "empty path segment"},
		{"/prod/db/", "empty path segment"},
		{"/prod/d b", "letters, digits"},
		{`/prod\db`, "letters, digits"},
		{"/prod/db%2F..", "letters, digits"},
		{"/" + strings.Repeat("a", 256), "at most 255 characters"},
		{"/db#\xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := secretref.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestTarget(t *testing.T) {
	tests := []struct {
		ref  secretref.Ref
		want string
	}{
		{secretref.Ref{SecretID: id, Revision: "1", Field: "f"}, id},
		{secretref.Ref{Path: "/", Name: "db", Field: "f"}, "/db"},
		{secretref.Ref{Path: "/a/b", Name: "db"}, "/a/b/db"},
	}
	for _, tt := range tests {
		if got := tt.ref.Target(); got != tt.want {
			t.Errorf("%+v.Target() = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is well
// formed, and that String gives back a reference that parses the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		id, id + "@2#password", "/prod/db#password", "prod/db", "db@latest", "/" + id,
		"/db#a#b", "/a/../b", "//", "/db@", "#", "@latest#x", "/db@01", "/x/y/z@latest_enabled#é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := secretref.Parse(s)
		if err != nil {
			return
		}
		if (r.SecretID == "") == (r.Name == "") {
			t.Fatalf("Parse(%q) = %+v: want exactly one of SecretID and Name", s, r)
		}
		if r.Name != "" && (!strings.HasPrefix(r.Path, "/") || (r.Path != "/" && strings.HasSuffix(r.Path, "/"))) {
			t.Fatalf("Parse(%q) = %+v: malformed path", s, r)
		}
		if strings.Contains(r.Path, "/../") || strings.HasSuffix(r.Path, "/..") || r.Name == ".." || r.Name == "." {
			t.Fatalf("Parse(%q) = %+v: traversal accepted", s, r)
		}
		again, err := secretref.Parse(r.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, but its String %q does not parse: %v", s, r, r.String(), err)
		}
		if again != r {
			t.Fatalf("Parse(%q) = %+v, Parse(%q) = %+v", s, r, r.String(), again)
		}
	})
}
