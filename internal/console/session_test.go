package console_test

import (
	"net/http"
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
