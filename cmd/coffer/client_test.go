package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"

	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// cli runs the coffer command in-process with its own environment.
type cli struct {
	t   *testing.T
	env map[string]string
}

// newCLI starts a node and returns a client configured for it through
// COFFER_ADDR, COFFER_TOKEN and COFFER_PROJECT. COFFER_DATA_DIR points at
// an empty directory so that no credentials file is found by accident.
func newCLI(t *testing.T) (*cli, *nodetest.Node) {
	t.Helper()
	n := nodetest.Start(t)
	return &cli{t: t, env: map[string]string{
		"COFFER_ADDR":     n.URL,
		"COFFER_TOKEN":    n.Creds.SecretKey,
		"COFFER_PROJECT":  n.Creds.ProjectID,
		"COFFER_DATA_DIR": t.TempDir(),
	}}, n
}

// with returns a copy of c whose environment is changed by kv pairs; an
// empty value unsets.
func (c *cli) with(kv ...string) *cli {
	env := make(map[string]string, len(c.env))
	for k, v := range c.env {
		env[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(env, kv[i])
		} else {
			env[kv[i]] = kv[i+1]
		}
	}
	return &cli{t: c.t, env: env}
}

// run runs coffer with args and stdin, and returns its outputs and status.
func (c *cli) run(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	code = run(c.t.Context(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return c.env[k] })
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed and returns its standard output.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	return c.okIn("", args...)
}

// okIn is ok with standard input.
func (c *cli) okIn(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(stdin, args...)
	if code != 0 || errOut != "" {
		c.t.Fatalf("coffer %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
	}
	return out
}

// fail runs a command that must exit with status want, print nothing on
// standard output and its error on standard error; it returns the error.
func (c *cli) fail(want int, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != want {
		c.t.Fatalf("coffer %s: exit %d, want %d; stderr %q", strings.Join(args, " "), code, want, errOut)
	}
	if out != "" {
		c.t.Errorf("coffer %s: stdout %q, want nothing", strings.Join(args, " "), out)
	}
	if !strings.HasPrefix(errOut, "coffer: ") {
		c.t.Errorf("coffer %s: stderr %q, want a \"coffer: \" message", strings.Join(args, " "), errOut)
	}
	return errOut
}

// decode decodes the JSON output of a command.
func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return v
}

// mustContain fails unless s holds every one of want.
func mustContain(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%q does not contain %q", s, w)
		}
	}
}

// mustNotContain fails if s holds any of bad.
func mustNotContain(t *testing.T, s string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(s, b) {
			t.Errorf("%q contains %q", s, b)
		}
	}
}

// fields reads "key  value" lines of text output.
func fields(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	sep := regexp.MustCompile(`\s{2,}`)
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		kv := sep.Split(strings.TrimSpace(line), 2)
		if len(kv) != 2 {
			t.Fatalf("output line %q is not \"key  value\"", line)
		}
		m[kv[0]] = kv[1]
	}
	return m
}

// writeCredentials writes a credentials file in a new data directory.
func writeCredentials(t *testing.T, c node.Credentials) string {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, node.CredentialsFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCredentialsFile(t *testing.T) {
	t.Parallel()
	_, n := newCLI(t)
	creds := *n.Creds
	creds.APIURL = n.URL
	dir := writeCredentials(t, creds)

	t.Run("COFFER_DATA_DIR", func(t *testing.T) {
		c := &cli{t: t, env: map[string]string{"COFFER_DATA_DIR": dir}}
		s := decode[secret.Secret](t, c.ok("secret", "create", "--name", "from-env-dir", "--json"))
		if s.ProjectID != creds.ProjectID || s.Region != "fr-par" {
			t.Errorf("created in project %s region %s, want %s fr-par", s.ProjectID, s.Region, creds.ProjectID)
		}
	})
	t.Run("--data-dir", func(t *testing.T) {
		c := &cli{t: t, env: map[string]string{"COFFER_DATA_DIR": t.TempDir()}}
		c.ok("secret", "create", "--data-dir", dir, "--name", "from-flag")
		out := c.ok("secret", "get", "/from-flag", "--data-dir", dir, "--json")
		if s := decode[secret.Secret](t, out); s.Name != "from-flag" {
			t.Errorf("got secret %q, want from-flag", s.Name)
		}
	})
	t.Run("no access key", func(t *testing.T) {
		noKey := creds
		noKey.AccessKey = ""
		c := &cli{t: t, env: map[string]string{"COFFER_DATA_DIR": writeCredentials(t, noKey)}}
		c.ok("secret", "list")
	})
	t.Run("environment first", func(t *testing.T) {
		wrong := creds
		wrong.APIURL = "http://127.0.0.1:1"
		wrong.ProjectID = "00000000-0000-4000-8000-000000000000"
		c := &cli{t: t, env: map[string]string{
			"COFFER_DATA_DIR": writeCredentials(t, wrong),
			"COFFER_ADDR":     n.URL,
			"COFFER_PROJECT":  creds.ProjectID,
		}}
		s := decode[secret.Secret](t, c.ok("secret", "create", "--name", "env-first", "--json"))
		if s.ProjectID != creds.ProjectID {
			t.Errorf("created in project %s, want %s", s.ProjectID, creds.ProjectID)
		}
	})
	t.Run("region from environment", func(t *testing.T) {
		c := &cli{t: t, env: map[string]string{"COFFER_DATA_DIR": dir, "COFFER_REGION": "nl-ams"}}
		if s := decode[secret.Secret](t, c.ok("secret", "create", "--name", "in-ams", "--json")); s.Region != "nl-ams" {
			t.Errorf("region %q, want nl-ams", s.Region)
		}
		// The test node serves fr-par and nl-ams only.
		errOut := c.with("COFFER_REGION", "pl-waw").fail(1, "secret", "list")
		mustContain(t, errOut, "not found", "region pl-waw", "HTTP 404")
	})
	t.Run("malformed", func(t *testing.T) {
		bad := t.TempDir()
		content := `{"secret_key": "` + creds.SecretKey + `",`
		if err := os.WriteFile(filepath.Join(bad, node.CredentialsFile), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		c := &cli{t: t, env: map[string]string{"COFFER_DATA_DIR": bad}}
		errOut := c.fail(1, "secret", "list")
		mustContain(t, errOut, "not a JSON credentials file")
		mustNotContain(t, errOut, creds.SecretKey)
	})
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	c, n := newCLI(t)

	t.Run("nothing configured", func(t *testing.T) {
		empty := t.TempDir()
		errOut := (&cli{t: t, env: map[string]string{"COFFER_DATA_DIR": empty}}).fail(2, "secret", "list")
		mustContain(t, errOut, "no server configured", "COFFER_ADDR", "COFFER_TOKEN", filepath.Join(empty, node.CredentialsFile))
	})
	t.Run("no project", func(t *testing.T) {
		c.ok("secret", "create", "--name", "db")
		noProject := c.with("COFFER_PROJECT", "")
		errOut := noProject.fail(2, "secret", "create", "--name", "no-project")
		mustContain(t, errOut, "no project to create the secret in: set COFFER_PROJECT")
		// Other commands work across the projects the API key sees.
		if got := decode[[]*secret.Secret](t, noProject.ok("secret", "list", "--json")); len(got) != 1 || got[0].ProjectID != n.Creds.ProjectID {
			t.Errorf("secret list without a project: %+v", got)
		}
		noProject.ok("secret", "get", "/db")
	})
	t.Run("wrong token", func(t *testing.T) {
		const token = "0b1e8a3c-57f4-4c7e-9a55-4a1c7c2d9e01"
		errOut := c.with("COFFER_TOKEN", token).fail(1, "secret", "list")
		mustContain(t, errOut, "authentication is denied", "HTTP 401", "COFFER_TOKEN")
		mustNotContain(t, errOut, token)
	})
	t.Run("malformed token", func(t *testing.T) {
		const token = "not-a-key-but-a-secret"
		errOut := c.with("COFFER_TOKEN", token).fail(2, "secret", "list")
		mustContain(t, errOut, "COFFER_TOKEN is malformed")
		mustNotContain(t, errOut, token)
	})
	t.Run("bad address", func(t *testing.T) {
		errOut := c.with("COFFER_ADDR", "127.0.0.1:8080").fail(2, "secret", "list")
		mustContain(t, errOut, `"127.0.0.1:8080"`, "not a base URL")
	})
	t.Run("trailing slash", func(t *testing.T) {
		c.with("COFFER_ADDR", n.URL+"/").ok("secret", "list")
	})
	t.Run("bad project", func(t *testing.T) {
		errOut := c.with("COFFER_PROJECT", "prod").fail(2, "secret", "list")
		mustContain(t, errOut, `project id "prod"`)
	})
	t.Run("bad region", func(t *testing.T) {
		errOut := c.with("COFFER_REGION", "paris").fail(2, "secret", "list")
		mustContain(t, errOut, `region "paris"`)
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		errOut := c.with("COFFER_ADDR", addr).fail(1, "secret", "list")
		mustContain(t, errOut, "cannot reach the server at "+addr)
	})
}

func TestServerAnswers(t *testing.T) {
	t.Parallel()
	c, _ := newCLI(t)
	const canary = "echoed-request-canary"

	t.Run("not the API", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>" + canary + "</html>"))
		}))
		defer srv.Close()
		errOut := c.with("COFFER_ADDR", srv.URL).fail(1, "version", "create", "--secret", "/x", "--data", canary)
		mustContain(t, errOut, "unexpected answer 502 Bad Gateway", "HTTP 502")
		mustNotContain(t, errOut, canary)
	})
	t.Run("redirect", func(t *testing.T) {
		var mu sync.Mutex
		followed := false
		target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			mu.Lock()
			followed = true
			mu.Unlock()
		}))
		defer target.Close()
		srv := httptest.NewServer(http.RedirectHandler(target.URL+"/elsewhere", http.StatusFound))
		defer srv.Close()
		errOut := c.with("COFFER_ADDR", srv.URL).fail(1, "secret", "list")
		mustContain(t, errOut, "redirect to "+target.URL+"/elsewhere", "HTTP 302")
		mu.Lock()
		defer mu.Unlock()
		if followed {
			t.Error("the redirect was followed, with the API key")
		}
	})
	t.Run("error details", func(t *testing.T) {
		errOut := c.fail(1, "secret", "create", "--name", "bad name")
		mustContain(t, errOut, "create secret: invalid argument(s): name: ", "HTTP 400")
		c.ok("secret", "create", "--name", "twice")
		errOut = c.fail(1, "secret", "create", "--name", "twice")
		mustContain(t, errOut, "already exists", "HTTP 409")
	})
}

func TestUsage(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{"COFFER_DATA_DIR": t.TempDir()}}
	for _, args := range [][]string{
		{"secret", "create", "-h"}, {"secret", "list", "--help"}, {"secret", "get", "-h"},
		{"secret", "update", "-h"}, {"secret", "delete", "-h"}, {"version", "create", "-h"},
		{"version", "list", "-h"}, {"version", "access", "-h"}, {"version", "enable", "-h"},
		{"version", "disable", "-h"}, {"version", "delete", "-h"}, {"get", "-h"}, {"run", "-h"},
	} {
		out := c.ok(args...)
		mustContain(t, out, "Usage: coffer "+strings.Join(args[:len(args)-1], " "), "-data-dir")
	}
	mustContain(t, c.ok("secret", "-h"), "Usage: coffer secret COMMAND")
	mustContain(t, c.ok("version", "help"), "Usage: coffer version COMMAND")

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"frob"}, `unknown command "frob"`},
		{[]string{"secret"}, `missing command after "secret"`},
		{[]string{"secret", "frob"}, `unknown command "secret frob"`},
		{[]string{"secret", "create"}, "--name is required"},
		{[]string{"secret", "create", "--name", "x", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"secret", "create", "--name", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"secret", "create", "--name", "x", "--type", "password"}, `unknown secret type "password"`},
		{[]string{"secret", "create", "--name", "x", "--ttl", "1h"}, "--action must be disable or delete"},
		{[]string{"secret", "create", "--name", "x", "--action", "delete"}, "--action needs --ttl or --expire-once-accessed"},
		{[]string{"secret", "create", "--name", "x", "--ttl", "-1s", "--action", "delete"}, "--ttl must be positive"},
		{[]string{"secret", "list", "--type", "nope"}, `unknown secret type "nope"`},
		{[]string{"secret", "get"}, "want exactly one SECRET"},
		{[]string{"secret", "get", "a", "b"}, "want exactly one SECRET"},
		{[]string{"secret", "get", "/prod/../db"}, `".." segments are not allowed`},
		{[]string{"secret", "get", "/prod/db#field"}, "without @revision or #field"},
		{[]string{"secret", "update", "/prod/db"}, "nothing to update"},
		{[]string{"secret", "update", "/prod/db", "--tag", "a", "--clear-tags"}, "exclude each other"},
		{[]string{"secret", "delete", "prod//db"}, "empty path segment"},
		{[]string{"version", "create", "--data", "x"}, "missing --secret"},
		{[]string{"version", "create", "--secret", "/db"}, "exactly one of --data, --file and --stdin"},
		{[]string{"version", "create", "--secret", "/db", "--data", "x", "--stdin"}, "exactly one of --data, --file and --stdin"},
		{[]string{"version", "access", "--secret", "/db@2"}, "without @revision or #field"},
		{[]string{"version", "access", "--secret", "/db", "--revision", "0"}, `invalid --revision "0"`},
		{[]string{"version", "enable", "--secret", "/db"}, "--revision is required"},
		{[]string{"version", "disable", "--secret", "/db", "--revision", "first"}, `invalid --revision "first"`},
		{[]string{"get"}, "want exactly one REF"},
		{[]string{"get", "/db#"}, "empty field after '#'"},
		{[]string{"get", "/db@x"}, "invalid revision"},
		{[]string{"run"}, "missing COMMAND"},
		{[]string{"run", "--env", "A", "--", "true"}, "want NAME=REF"},
		{[]string{"run", "--env", "1A=/db", "--", "true"}, "want NAME=REF"},
		{[]string{"run", "--env", "A=/db", "--env", "A=/db2", "--", "true"}, "--env A is given twice"},
		{[]string{"run", "--env", "A=/db/../x", "--", "true"}, `".." segments are not allowed`},
	} {
		errOut := c.fail(2, tt.args...)
		mustContain(t, errOut, tt.want, "Run \"coffer ")
	}
}

// counter counts the ListSecrets calls made to a handler.
type counter struct {
	h     http.Handler
	mu    sync.Mutex
	lists int
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/secrets") {
		c.mu.Lock()
		c.lists++
		c.mu.Unlock()
	}
	c.h.ServeHTTP(w, r)
}

func (c *counter) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.lists
	c.lists = 0
	return n
}

func TestResolveOnce(t *testing.T) {
	t.Parallel()
	c, n := newCLI(t)
	cnt := &counter{h: n.Handler()}
	srv := httptest.NewServer(cnt)
	defer srv.Close()
	c = c.with("COFFER_ADDR", srv.URL)
	id := decode[secret.Secret](t, c.ok("secret", "create", "--name", "db", "--path", "/prod", "--json")).ID
	cnt.take()

	for _, tt := range []struct {
		args  []string
		lists int
	}{
		{[]string{"secret", "get", "/prod/db"}, 1},
		{[]string{"secret", "get", id}, 0},
		{[]string{"secret", "update", "prod/db", "--description", "d", "--protected=true"}, 1},
		{[]string{"secret", "update", id, "--protected=false"}, 0},
		{[]string{"version", "create", "--secret", "/prod/db", "--data", "{}"}, 1},
		{[]string{"version", "list", "--secret", "/prod/db"}, 1},
		{[]string{"version", "disable", "--secret", "/prod/db", "--revision", "1"}, 1},
		{[]string{"version", "enable", "--secret", id, "--revision", "1"}, 0},
		{[]string{"version", "access", "--secret", "/prod/db"}, 0},
		{[]string{"get", "/prod/db"}, 0},
		{[]string{"secret", "delete", "/prod/db"}, 1},
	} {
		c.ok(tt.args...)
		if got := cnt.take(); got != tt.lists {
			t.Errorf("coffer %s: %d ListSecrets calls, want %d", strings.Join(tt.args, " "), got, tt.lists)
		}
	}
}

// TestTour runs the client commands of README.md's tour as written, with
// the credentials file as the only configuration.
func TestTour(t *testing.T) {
	t.Parallel()
	_, n := newCLI(t)
	creds := *n.Creds
	creds.APIURL = n.URL
	c := &cli{t: t, env: map[string]string{"COFFER_DATA_DIR": writeCredentials(t, creds)}}
	c.ok("secret", "create", "--name", "db", "--path", "/prod", "--type", "key_value")
	c.ok("version", "create", "--secret", "/prod/db", "--data", `{"user":"app","password":"s3cret"}`)
	if out := c.ok("get", "/prod/db#password"); out != "s3cret" {
		t.Errorf("coffer get /prod/db#password = %q", out)
	}
	if out := c.ok("get", "/prod/db@1#user"); out != "app" {
		t.Errorf("coffer get /prod/db@1#user = %q", out)
	}
}
