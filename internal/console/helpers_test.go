package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// browser is an HTTP client that keeps cookies and does not follow
// redirects, as a test of the console's answers needs them one by one.
type browser struct {
	t *testing.T
	n *nodetest.Node
	// base is the server's URL: the node's, or a TLS listener's.
	base string
	c    *http.Client
	jar  *cookiejar.Jar
}

func newBrowser(t *testing.T, n *nodetest.Node) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, n: n, base: n.URL, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer of the console.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	loginToken = regexp.MustCompile(`name="login_csrf" value="([^"]+)"`)
	csrfToken  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

func find(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in the page:\n%s", re, body)
	}
	return m[1]
}

// login logs in with an API key's secret and returns the page's CSRF
// token.
func (b *browser) login(secretKey string) string {
	b.t.Helper()
	p := b.get("/ui/login")
	if p.status != http.StatusOK {
		b.t.Fatalf("GET /ui/login: %d", p.status)
	}
	tok := find(b.t, loginToken, p.body)
	p = b.post("/ui/login", url.Values{"login_csrf": {tok}, "secret_key": {secretKey}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/" {
		b.t.Fatalf("login: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	return b.csrf()
}

// csrf returns the CSRF token of the home page.
func (b *browser) csrf() string {
	b.t.Helper()
	p := b.get("/ui/")
	if p.status != http.StatusOK {
		b.t.Fatalf("GET /ui/: %d\n%s", p.status, p.body)
	}
	return find(b.t, csrfToken, p.body)
}

// cookie returns the browser's cookie of that name for the console.
func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base + "/ui/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// admin returns a context of the node's admin principal, for the engine.
func admin(t *testing.T, n *nodetest.Node) context.Context {
	t.Helper()
	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return coffer.NewContextWithCaller(context.Background(), c)
}

// kvSecret creates a key_value secret with one version per value.
func kvSecret(t *testing.T, n *nodetest.Node, path, name string, values ...string) *coffer.Secret {
	t.Helper()
	ctx := admin(t, n)
	s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Path: path, Name: name, Type: coffer.TypeKeyValue})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// version returns a version's metadata, read by the admin.
func version(t *testing.T, n *nodetest.Node, secretID string, rev uint32) *coffer.Version {
	t.Helper()
	v, err := n.Engine.GetVersion(admin(t, n), secretID, coffer.RevisionN(rev))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sessions counts the sessions in the node's store.
func sessions(t *testing.T, n *nodetest.Node) int {
	t.Helper()
	var count int
	if err := n.SQL(t).QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	return count
}

// engineLimits are the default limits with a small value limit (4 KiB).
func engineLimits() engine.Limits {
	l := engine.DefaultLimits()
	l.MaxPayloadSize = 4 << 10
	return l
}

// secretOfType creates an empty secret of a type.
func secretOfType(t *testing.T, n *nodetest.Node, typ coffer.SecretType) *coffer.Secret {
	t.Helper()
	s, err := n.Engine.CreateSecret(admin(t, n), coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Path: "/up",
		Name: "s" + strconv.FormatInt(time.Now().UnixNano(), 36), Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
