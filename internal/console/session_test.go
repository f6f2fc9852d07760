package console_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestSessionExpiry checks the idle and absolute ends of a session, and
// that a session ends with the key that opened it.
func TestSessionExpiry(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, nodetest.WithNow(clock.Now))
	ok := func(b *browser, what string, want int) {
		t.Helper()
		if p := b.get("/ui/"); p.status != want {
			t.Errorf("%s: GET /ui/ %d, want %d", what, p.status, want)
		}
	}

	idle := newBrowser(t, n)
	idle.login(n.Creds.SecretKey)
	clock.Advance(coffer.SessionIdleTimeout + time.Second)
	ok(idle, "idle past the timeout", http.StatusUnauthorized)

	// Use keeps a session alive, up to its absolute end.
	busy := newBrowser(t, n)
	busy.login(n.Creds.SecretKey)
	for elapsed := time.Duration(0); elapsed+20*time.Minute < coffer.SessionLifetime; elapsed += 20 * time.Minute {
		clock.Advance(20 * time.Minute)
		ok(busy, "in use", http.StatusOK)
	}
	clock.Advance(20 * time.Minute)
	ok(busy, "past its lifetime", http.StatusUnauthorized)

	// A disabled key ends its sessions.
	ctx := admin(t, n)
	p, err := n.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalUser, Name: "ops", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	key, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: p.ID, DefaultProjectID: n.Creds.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	ops := newBrowser(t, n)
	ops.login(key.SecretKey)
	ok(ops, "the key enabled", http.StatusOK)
	if _, err := n.Engine.SetAPIKeyDisabled(ctx, key.AccessKey, true); err != nil {
		t.Fatal(err)
	}
	ok(ops, "the key disabled", http.StatusUnauthorized)
	if _, err := n.Engine.SetAPIKeyDisabled(ctx, key.AccessKey, false); err != nil {
		t.Fatal(err)
	}
	ops = newBrowser(t, n)
	ops.login(key.SecretKey)
	if err := n.Engine.DeletePrincipal(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	ok(ops, "the principal deleted", http.StatusUnauthorized)
}

// TestLoginAgainEndsTheOldSession checks that logging in again in the same
// browser ends the session it held: its cookie, replayed, is refused, and
// only one session is left.
func TestLoginAgainEndsTheOldSession(t *testing.T) {
	n := nodetest.Start(t)
	b := newBrowser(t, n)
	b.login(n.Creds.SecretKey)
	old := b.cookie("coffer_session")
	if old == nil {
		t.Fatal("no session cookie after a login")
	}
	b.login(n.Creds.SecretKey)
	if now := b.cookie("coffer_session"); now == nil || now.Value == old.Value {
		t.Fatal("the second login kept the first session's token")
	}
	if got := sessions(t, n); got != 1 {
		t.Fatalf("%d sessions after logging in twice, want 1", got)
	}
	replay := newBrowser(t, n)
	u, _ := url.Parse(n.URL + "/ui/")
	replay.jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/ui"}})
	if p := replay.get("/ui/"); p.status != http.StatusUnauthorized {
		t.Fatalf("the replaced session's cookie: %d, want 401", p.status)
	}
}
