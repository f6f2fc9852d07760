package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// chromium returns the path of the Chromium binary, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Skip("Chromium is not installed (apt-get install chromium): the browser tests need it")
	return ""
}

// newTab starts a headless Chromium with a fresh profile and returns a
// context of one tab, ended with the test.
func newTab(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	// The browser starts with the first call, on a context without a
	// deadline: it lives as long as that context.
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	// A generous bound for the whole flow on a loaded machine; each step
	// waits for its condition, never for a fixed time.
	ctx, cancelTimeout := context.WithTimeout(tab, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// step runs actions in the tab; on failure it saves a screenshot and the
// page's HTML in a directory that outlives the test, and says where.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	err := chromedp.Do(ctx, actions...)
	if err == nil {
		return
	}
	dir, derr := os.MkdirTemp("", "coffer-console-failure-")
	if derr != nil {
		t.Fatalf("%s: %v (and no directory for the page: %v)", what, err, derr)
	}
	// A fresh bound: the tab's own may be what ran out.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	location, _ := chromedp.Run(sctx, chromedp.Location())
	png, _ := chromedp.Run(sctx, chromedp.FullScreenshot(90))
	html, _ := chromedp.Run(sctx, chromedp.OuterHTML(chromedp.CSS("html")))
	_ = os.WriteFile(filepath.Join(dir, "page.png"), png, 0o600)
	_ = os.WriteFile(filepath.Join(dir, "page.html"), []byte(html), 0o600)
	t.Fatalf("%s: %v\nthe page (%s) is saved in %s", what, err, location, dir)
}

// into runs a, which returns a value, and keeps the value in out.
func into[T any](a chromedp.Action[T], out *T) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*out = v
		return chromedp.Void{}, err
	}
}

// text reads the text of the element sel.
func text(sel string, out *string) chromedp.Action[chromedp.Void] {
	return into(chromedp.Text(chromedp.CSS(sel)), out)
}

// html reads the whole page.
func html(out *string) chromedp.Action[chromedp.Void] {
	return into(chromedp.OuterHTML(chromedp.CSS("html")), out)
}

// waitText waits until the element sel's text contains want. A page that
// navigates while it is polled (a form was posted) is polled again.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](
		`(() => { const el = document.querySelector(`+jsString(sel)+`); return !!el && el.textContent.includes(`+jsString(want)+`); })()`,
		chromedp.WithPollingInterval(50*time.Millisecond))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			_, err := poll(ctx, t)
			if err == nil {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %q in %s: %w", want, sel, err)
			case <-tick.C:
			}
		}
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

// press waits for the link or button sel, focuses it and presses Enter:
// the console is used without a mouse, and a key press does not depend on
// where the element is drawn.
func press(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.KeyEvent(kb.Enter),
	)
}

// screenshot saves the viewport as a PNG at path, when path is set.
func screenshot(path string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if path == "" {
			return chromedp.Void{}, nil
		}
		png, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(path, png, 0o644)
	}
}

// TestBrowser drives the console's main flow in a real browser: log in,
// create a key-value secret in a folder, add a second version, browse to
// it, compare the versions, reveal a value (one audit record), disable a
// version (the API refuses it), delete and restore, log out (the session
// is gone). With COFFER_SCREENSHOTS=dir, it saves the screenshots of the
// README there.
func TestBrowser(t *testing.T) {
	ctx := newTab(t)
	n := nodetest.Start(t)
	shots := os.Getenv("COFFER_SCREENSHOTS")
	shot := func(name string) string {
		if shots == "" {
			return ""
		}
		return filepath.Join(shots, name)
	}
	project := n.Creds.ProjectID

	step(t, ctx, "log in with the keyboard",
		chromedp.Navigate(n.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#secret_key")),
		chromedp.SendKeys(chromedp.CSS("#secret_key"), n.Creds.SecretKey+kb.Enter),
		waitText("h1", "Projects"),
	)
	step(t, ctx, "create a key-value secret in a folder",
		press(`a[href="/ui/projects/`+project+`/"]`),
		chromedp.WaitVisible(chromedp.CSS("#new-secret")),
		press("#new-secret"),
		chromedp.WaitVisible(chromedp.CSS("#secret-name")),
		chromedp.SetValue(chromedp.CSS("#path"), "/team/app"),
		chromedp.SendKeys(chromedp.CSS("#secret-name"), "db"),
		chromedp.SendKeys(chromedp.CSS("#tags"), "prod, db"),
		press("#create-secret"),
		waitText("#secret-title", "db"),
	)
	var secretURL string
	step(t, ctx, "create the first version", into(chromedp.Location(), &secretURL),
		chromedp.SendKeys(chromedp.CSS("#k0"), "user"),
		chromedp.SendKeys(chromedp.CSS("#v0"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#k1"), "password"),
		chromedp.SendKeys(chromedp.CSS("#v1"), "pw-one-4f1c"),
		press("#create-version"),
		chromedp.WaitVisible(chromedp.CSS("#rev-1")),
	)
	secretID := strings.TrimSuffix(strings.TrimPrefix(secretURL, n.URL+"/ui/secrets/"), "/")
	step(t, ctx, "add a second version with a fourth row",
		chromedp.SendKeys(chromedp.CSS("#k0"), "user"),
		chromedp.SendKeys(chromedp.CSS("#v0"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#k1"), "password"),
		chromedp.SendKeys(chromedp.CSS("#v1"), "pw-two-8d2e"),
		chromedp.SendKeys(chromedp.CSS("#k2"), "host"),
		chromedp.SendKeys(chromedp.CSS("#v2"), "db.internal"),
		press("#add-row"),
		chromedp.WaitVisible(chromedp.CSS("#k3")),
		chromedp.SendKeys(chromedp.CSS("#k3"), "port"),
		chromedp.SendKeys(chromedp.CSS("#v3"), "5432"),
		press("#create-version"),
		chromedp.WaitVisible(chromedp.CSS("#rev-2")),
	)
	var page string
	step(t, ctx, "no value in the secret page", html(&page))
	for _, v := range []string{"pw-one-4f1c", "pw-two-8d2e", "db.internal"} {
		if strings.Contains(page, v) {
			t.Errorf("the secret page holds the value %q", v)
		}
	}

	step(t, ctx, "browse to the secret with the keyboard",
		chromedp.Navigate(n.URL+"/ui/projects/"+project+"/"),
		press(`a.folder[href$="path=%2fteam"]`),
		press(`a.folder[href$="path=%2fteam%2fapp"]`),
		press(`a[href="/ui/secrets/`+secretID+`/"]`),
		waitText("#secret-title", "db"),
		screenshot(shot("console-secret.png")),
	)

	var password, host, user string
	step(t, ctx, "compare the versions",
		press("#diff"),
		chromedp.WaitVisible(chromedp.CSS("#diff-table")),
		text(`tr[data-key="password"] .change`, &password),
		text(`tr[data-key="host"] .change`, &host),
		text(`tr[data-key="user"] .change`, &user),
		screenshot(shot("console-diff.png")),
	)
	if password != "changed" || host != "added" || user != "unchanged" {
		t.Errorf("diff: password %q, host %q, user %q; want changed, added, unchanged", password, host, user)
	}

	before := reveals(t, n, secretID)
	var revealed string
	step(t, ctx, "reveal revision 2",
		chromedp.Navigate(secretURL),
		press("#reveal-2"),
		chromedp.WaitVisible(chromedp.CSS("#revealed")),
		text("#revealed", &revealed),
	)
	if !strings.Contains(revealed, "pw-two-8d2e") || strings.Contains(revealed, "pw-one-4f1c") {
		t.Errorf("revealed %q, want revision 2's value", revealed)
	}
	if got := reveals(t, n, secretID) - before; got != 1 {
		t.Errorf("%d audit records of the reveal, want 1", got)
	}
	step(t, ctx, "Escape hides the value and goes back",
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitVisible(chromedp.CSS("#versions")),
		html(&page),
	)
	if strings.Contains(page, "pw-two-8d2e") {
		t.Error("the value is still in the page after Escape")
	}

	step(t, ctx, "disable revision 2",
		press("#disable-2"),
		waitText("#rev-2 .state", "disabled"),
	)
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/secret-manager/v1beta1/regions/fr-par/secrets/"+secretID+"/versions/2/access", nil)
	req.Header.Set("X-Auth-Token", n.Creds.SecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Errorf("the Scaleway API reads a disabled version: %d", resp.StatusCode)
	}

	var state string
	step(t, ctx, "delete the secret after a confirmation",
		press("#delete-secret"),
		waitText("#confirm-text", "scheduled for deletion"),
		press("#confirm"),
		waitText("#secret-state", "deletion_scheduled"),
	)
	step(t, ctx, "restore it",
		press("#restore-secret"),
		waitText("#secret-state", "enabled"),
		text("#secret-state", &state),
	)
	if state != "enabled" {
		t.Errorf("after restore the secret is %q", state)
	}

	step(t, ctx, "readable at 320 px",
		chromedp.EmulateViewport(320, 640),
		chromedp.Navigate(secretURL),
		chromedp.WaitVisible(chromedp.CSS("#versions")),
	)
	var width int
	step(t, ctx, "page width", into(chromedp.Evaluate[int](`document.documentElement.scrollWidth`), &width))
	if width > 320 {
		var wide string
		step(t, ctx, "wide elements", into(chromedp.Evaluate[string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 320).map(e => e.tagName + "#" + e.id + "." + e.className + ":" + Math.round(e.getBoundingClientRect().right)).join(" ")`), &wide))
		t.Errorf("at 320 px the secret page is %d px wide: %s", width, wide)
	}

	step(t, ctx, "log out",
		chromedp.EmulateViewport(1100, 900),
		press("#logout"),
		chromedp.WaitVisible(chromedp.CSS("#secret_key")),
	)
	if got := sessions(t, n); got != 0 {
		t.Errorf("%d sessions after logout, want 0", got)
	}
	step(t, ctx, "the secret page needs a login again",
		chromedp.Navigate(secretURL),
		chromedp.WaitVisible(chromedp.CSS("#secret_key")),
	)
}
