package console_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestHeaders checks what every answer of the console carries, and the
// session cookie's attributes.
func TestHeaders(t *testing.T) {
	n := nodetest.Start(t)
	b := newBrowser(t, n)
	login := b.get("/ui/login")
	b.login(n.Creds.SecretKey)
	home := b.get("/ui/")
	missing := b.get("/ui/no/such/page")
	for name, p := range map[string]page{"login": login, "home": home, "unknown page": missing} {
		for h, want := range map[string]string{
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		} {
			if got := p.header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", name, h, got, want)
			}
		}
		csp := p.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", name, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.body, "<script>") || strings.Contains(p.body, " onclick=") {
			t.Errorf("%s: inline script allowed or present", name)
		}
	}
	if missing.status != http.StatusNotFound || !strings.Contains(missing.body, "There is no such page.") {
		t.Errorf("unknown page: %d\n%s", missing.status, missing.body)
	}

	// The cookie as the server set it.
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/ui/login", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tok := find(t, loginToken, readAll(t, resp))
	form := url.Values{"login_csrf": {tok}, "secret_key": {n.Creds.SecretKey}}
	req, _ = http.NewRequest(http.MethodPost, n.URL+"/ui/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(resp.Cookies()[0])
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "coffer_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie after login: %v", resp.Header["Set-Cookie"])
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/ui" || session.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/ui, not Secure over plain HTTP", session)
	}

	// GET / sends browsers to the console.
	root := b.get("/")
	if root.status != http.StatusFound || root.header.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d %q, want 302 to /ui/", root.status, root.header.Get("Location"))
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestLogin checks refused logins: a wrong key, and a login form without
// its token.
func TestLogin(t *testing.T) {
	n := nodetest.Start(t)
	b := newBrowser(t, n)
	tok := find(t, loginToken, b.get("/ui/login").body)
	p := b.post("/ui/login", url.Values{"login_csrf": {tok}, "secret_key": {"not-a-key"}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "This key is not valid.") {
		t.Errorf("wrong key: %d\n%s", p.status, p.body)
	}
	p = b.post("/ui/login", url.Values{"secret_key": {n.Creds.SecretKey}})
	if p.status != http.StatusForbidden || b.cookie("coffer_session") != nil {
		t.Errorf("login without its token: %d, session cookie %v", p.status, b.cookie("coffer_session"))
	}
	if got := sessions(t, n); got != 0 {
		t.Errorf("%d sessions after refused logins, want 0", got)
	}
	// A page without a session goes to the login page.
	if p := b.get("/ui/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/login" {
		t.Errorf("GET /ui/ without a session: %d %q", p.status, p.header.Get("Location"))
	}
}

// TestCSRF checks that a form post without the session's CSRF token, or
// with another session's, is refused and changes nothing.
func TestCSRF(t *testing.T) {
	n := nodetest.Start(t)
	s := kvSecret(t, n, "/app", "db", `{"password":"p1"}`)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	other := newBrowser(t, n)
	otherCSRF := other.login(n.Creds.SecretKey)
	disable := "/ui/secrets/" + s.ID + "/versions/1/disable"
	for name, form := range map[string]url.Values{
		"no token":              {},
		"empty token":           {"csrf": {""}},
		"wrong token":           {"csrf": {"AAAA"}},
		"another session token": {"csrf": {otherCSRF}},
	} {
		p := b.post(disable, form)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "did not come from this console") {
			t.Errorf("%s: %d\n%s", name, p.status, p.body)
		}
		if v := version(t, n, s.ID, 1); v.State != coffer.VersionEnabled {
			t.Fatalf("%s: the version is %s", name, v.State)
		}
	}
	// A post another site's page makes carries that site's origin.
	req, _ := http.NewRequest(http.MethodPost, n.URL+disable, strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Errorf("cross-origin post: %d", p.status)
	}
	if v := version(t, n, s.ID, 1); v.State != coffer.VersionEnabled {
		t.Fatalf("after refused posts, the version is %s", v.State)
	}
	if p := b.post(disable, url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("post with the token: %d\n%s", p.status, p.body)
	}
	if v := version(t, n, s.ID, 1); v.State != coffer.VersionDisabled {
		t.Errorf("after the post with its token, the version is %s", v.State)
	}
}

// TestLogout checks that a logout ends the session on the server: the
// cookie of an ended session is refused, for pages and posts.
func TestLogout(t *testing.T) {
	n := nodetest.Start(t)
	s := kvSecret(t, n, "/", "k", `{"a":"1"}`)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	if got := sessions(t, n); got != 1 {
		t.Fatalf("%d sessions after login, want 1", got)
	}
	old := b.cookie("coffer_session")
	if p := b.post("/ui/logout", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/login" {
		t.Fatalf("logout: %d %q", p.status, p.header.Get("Location"))
	}
	if b.cookie("coffer_session") != nil {
		t.Error("the browser keeps the session cookie after logout")
	}
	if got := sessions(t, n); got != 0 {
		t.Errorf("%d sessions after logout, want 0", got)
	}
	// The old cookie, replayed.
	replay := newBrowser(t, n)
	u, _ := url.Parse(n.URL + "/ui/")
	replay.jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/ui"}})
	if p := replay.get("/ui/secrets/" + s.ID + "/"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Your session has ended") {
		t.Errorf("page with an ended session: %d\n%s", p.status, p.body)
	}
	replay.jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/ui"}})
	if p := replay.post("/ui/secrets/"+s.ID+"/versions/1/disable", url.Values{"csrf": {csrf}}); p.status != http.StatusUnauthorized {
		t.Errorf("post with an ended session: %d", p.status)
	}
	if v := version(t, n, s.ID, 1); v.State != coffer.VersionEnabled {
		t.Errorf("the version is %s after a post with an ended session", v.State)
	}
}

// readOnly creates a principal that may only read metadata, and its key.
func readOnly(t *testing.T, n *nodetest.Node) string {
	t.Helper()
	ctx := admin(t, n)
	p, err := n.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalUser, Name: "auditor"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreatePolicy(ctx, coffer.PolicyCreate{PrincipalID: p.ID, ProjectID: n.Creds.ProjectID,
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerReadOnly}}); err != nil {
		t.Fatal(err)
	}
	k, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: p.ID, DefaultProjectID: n.Creds.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	return k.SecretKey
}

// TestReadOnly checks that a read-only principal sees no write button,
// and that a forged write post is refused with nothing changed.
func TestReadOnly(t *testing.T) {
	n := nodetest.Start(t)
	s := kvSecret(t, n, "/app", "db", `{"password":"p1"}`, `{"password":"p2"}`)
	b := newBrowser(t, n)
	csrf := b.login(readOnly(t, n))
	p := b.get("/ui/secrets/" + s.ID + "/")
	if p.status != http.StatusOK || !strings.Contains(p.body, "db") {
		t.Fatalf("secret page: %d\n%s", p.status, p.body)
	}
	for _, button := range []string{`id="create-version"`, `id="disable-`, `id="delete-`, `id="destroy-`, `id="reveal-`, `id="edit-secret"`, `id="delete-secret"`, `id="diff"`} {
		if strings.Contains(p.body, button) {
			t.Errorf("the read-only principal's secret page has %s", button)
		}
	}
	browse := b.get("/ui/projects/" + n.Creds.ProjectID + "/?path=/app")
	if browse.status != http.StatusOK || strings.Contains(browse.body, `id="new-secret"`) || !strings.Contains(browse.body, "db") {
		t.Errorf("folder page of the read-only principal: %d\n%s", browse.status, browse.body)
	}
	for path, form := range map[string]url.Values{
		"/ui/secrets/" + s.ID + "/versions/2/disable":    {"csrf": {csrf}},
		"/ui/secrets/" + s.ID + "/versions/2/destroy":    {"csrf": {csrf}},
		"/ui/secrets/" + s.ID + "/versions":              {"csrf": {csrf}, "k": {"password"}, "v": {"forged"}},
		"/ui/secrets/" + s.ID + "/delete":                {"csrf": {csrf}},
		"/ui/projects/" + n.Creds.ProjectID + "/secrets": {"csrf": {csrf}, "path": {"/app"}, "name": {"x"}, "type": {"opaque"}},
		"/ui/secrets/" + s.ID + "/versions/2/reveal":     {"csrf": {csrf}},
	} {
		p := b.post(path, form)
		if p.status != http.StatusForbidden {
			t.Errorf("forged post to %s: %d, want 403\n%s", path, p.status, p.body)
		}
		if strings.Contains(p.body, "p2") {
			t.Errorf("forged post to %s shows the value", path)
		}
	}
	got, err := n.Engine.GetSecret(admin(t, n), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastRevision != 2 || got.State != coffer.SecretEnabled || version(t, n, s.ID, 2).State != coffer.VersionEnabled {
		t.Errorf("after forged posts: last revision %d, state %s, revision 2 %s", got.LastRevision, got.State, version(t, n, s.ID, 2).State)
	}
}

// TestNoValueUntilReveal checks that no page holds a value until the
// reveal, which is one audited request.
func TestNoValueUntilReveal(t *testing.T) {
	n := nodetest.Start(t)
	const v1, v2 = "first-value-7f3a", "second-value-9c2e"
	s := kvSecret(t, n, "/app", "api", `{"token":"`+v1+`","user":"svc"}`, `{"token":"`+v2+`","user":"svc","extra":"x"}`)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	for _, path := range []string{
		"/ui/",
		"/ui/projects/" + n.Creds.ProjectID + "/",
		"/ui/projects/" + n.Creds.ProjectID + "/?path=/app",
		"/ui/projects/" + n.Creds.ProjectID + "/?path=/&name=api",
		"/ui/secrets/" + s.ID + "/",
		"/ui/secrets/" + s.ID + "/diff?from=1&to=2",
		"/ui/secrets/" + s.ID + "/versions/2/destroy",
		"/ui/secrets/" + s.ID + "/edit",
		"/ui/audit",
	} {
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", path, p.status, p.body)
		}
		if strings.Contains(p.body, v1) || strings.Contains(p.body, v2) {
			t.Errorf("GET %s holds a value", path)
		}
	}
	diff := b.get("/ui/secrets/" + s.ID + "/diff?from=1&to=2").body
	for _, want := range []string{`data-key="token"><td>token</td><td class="change">changed`, `data-key="extra"><td>extra</td><td class="change">added`, `data-key="user"><td>user</td><td class="change">unchanged`} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %s:\n%s", want, diff)
		}
	}
	before := reveals(t, n, s.ID)
	p := b.post("/ui/secrets/"+s.ID+"/versions/2/reveal", url.Values{"csrf": {csrf}})
	if p.status != http.StatusOK || !strings.Contains(p.body, v2) || strings.Contains(p.body, v1) {
		t.Fatalf("reveal of revision 2: %d\n%s", p.status, p.body)
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("reveal: Cache-Control %q", p.header.Get("Cache-Control"))
	}
	if got := reveals(t, n, s.ID) - before; got != 1 {
		t.Errorf("%d audit records of the reveal, want 1", got)
	}
}

// reveals counts the console's reveal records of a secret.
func reveals(t *testing.T, n *nodetest.Node, secretID string) int {
	t.Helper()
	count := 0
	for _, r := range n.SQL(t).AuditRecords(t) {
		if r.Dialect == "console" && r.SecretID == secretID && r.Action == "POST /ui/secrets/{id}/versions/{rev}/reveal" && r.Outcome == coffer.AuditOK {
			count++
		}
	}
	return count
}

// TestBadInput checks that unknown ids, unclean paths, oversized uploads
// and malformed forms get a clear message and change nothing.
func TestBadInput(t *testing.T) {
	n := nodetest.Start(t, nodetest.WithLimits(engineLimits()))
	s := kvSecret(t, n, "/app", "db", `{"a":"1"}`)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	project := n.Creds.ProjectID
	for _, tt := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"unknown secret", "/ui/secrets/00000000-0000-4000-8000-000000000000/", http.StatusNotFound, "not found"},
		{"malformed secret id", "/ui/secrets/nope/", http.StatusBadRequest, ""},
		{"unclean path", "/ui/secrets/" + s.ID + "/../../projects/", http.StatusBadRequest, "must not contain"},
		{"dot-dot folder", "/ui/projects/" + project + "/?path=/app/../etc", http.StatusBadRequest, ""},
		{"unknown project", "/ui/projects/00000000-0000-4000-8000-000000000000/", http.StatusNotFound, ""},
		{"bad revision", "/ui/secrets/" + s.ID + "/diff?from=abc&to=1", http.StatusBadRequest, "invalid revision"},
		{"bad page", "/ui/secrets/" + s.ID + "/?page=-1", http.StatusBadRequest, "positive number"},
		{"bad audit time", "/ui/audit?from=yesterday", http.StatusBadRequest, "is not a date"},
	} {
		req, _ := http.NewRequest(http.MethodGet, n.URL+tt.path, nil)
		req.URL.Opaque = tt.path // keep the dots as sent
		p := b.do(req)
		if p.status != tt.status || !strings.Contains(p.body, `id="error"`) || !strings.Contains(p.body, tt.want) {
			t.Errorf("%s: %d, want %d with %q\n%s", tt.name, p.status, tt.status, tt.want, p.body)
		}
		if strings.Contains(p.body, "goroutine") || strings.Contains(p.body, ".go:") {
			t.Errorf("%s: the page shows a stack", tt.name)
		}
	}

	versions := "/ui/secrets/" + s.ID + "/versions"
	for name, form := range map[string]url.Values{
		"key without value": {"csrf": {csrf}, "k": {"a", "b"}, "v": {"1"}},
		"value without key": {"csrf": {csrf}, "k": {""}, "v": {"x"}},
		"duplicate key":     {"csrf": {csrf}, "k": {"a", "a"}, "v": {"1", "2"}},
		"no value":          {"csrf": {csrf}},
		"bad revision":      {"csrf": {csrf}},
	} {
		path := versions
		if name == "bad revision" {
			path = versions + "/latest/disable"
		}
		p := b.post(path, form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="error"`) {
			t.Errorf("%s: %d\n%s", name, p.status, p.body)
		}
	}
	p := b.post("/ui/projects/"+project+"/secrets", url.Values{"csrf": {csrf}, "path": {"/a/../b"}, "name": {"x"}, "type": {"opaque"}})
	if p.status != http.StatusBadRequest {
		t.Errorf("secret in /a/../b: %d\n%s", p.status, p.body)
	}

	// An upload over the body bound, and one over the value limit.
	for name, size := range map[string]int{"over the body bound": 2 << 20, "over the value limit": 8 << 10} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("csrf", csrf)
		fw, _ := mw.CreateFormFile("file", "big.bin")
		_, _ = fw.Write(bytes.Repeat([]byte("x"), size))
		_ = mw.Close()
		s2 := secretOfType(t, n, coffer.TypeOpaque)
		req, _ := http.NewRequest(http.MethodPost, n.URL+"/ui/secrets/"+s2.ID+"/versions", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		p := b.do(req)
		if p.status < 400 || p.status >= 500 || !strings.Contains(p.body, `id="error"`) {
			t.Errorf("upload %s: %d\n%s", name, p.status, p.body)
		}
		got, err := n.Engine.GetSecret(admin(t, n), s2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastRevision != 0 {
			t.Errorf("upload %s: a version was written", name)
		}
	}
	got, err := n.Engine.GetSecret(admin(t, n), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastRevision != 1 {
		t.Errorf("after bad input, the secret has revision %d", got.LastRevision)
	}
}
