package console_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestLoginThrottled checks that the login form is throttled as the APIs
// are: after a few refused keys from one address, even the right key is
// answered 429 with Retry-After, unchecked, until the minute has passed.
func TestLoginThrottled(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, nodetest.WithNow(clock.Now), func(c *node.Config) {
		c.RateLimits = limit.Config{AuthFailures: 3, Now: clock.Now}
	})
	b := newBrowser(t, n)
	try := func(key string) page {
		t.Helper()
		tok := find(t, loginToken, b.get("/ui/login").body)
		return b.post("/ui/login", url.Values{"login_csrf": {tok}, "secret_key": {key}})
	}
	for i := range 3 {
		if p := try("00000000-0000-0000-0000-000000000000"); p.status != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: %d", i, p.status)
		}
	}
	p := try(n.Creds.SecretKey)
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
		t.Fatalf("the right key after three wrong ones: %d, Retry-After %q\n%s", p.status, p.header.Get("Retry-After"), p.body)
	}
	if sessions(t, n) != 0 {
		t.Fatal("a throttled login opened a session")
	}
	clock.Advance(2 * time.Minute)
	b.login(n.Creds.SecretKey)
}
