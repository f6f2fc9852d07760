package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/webhook"
)

// The fixed vector, computed independently (Python's hmac module).
const (
	vectorSecret    = "whsec-test"
	vectorTimestamp = 1700000000
	vectorBody      = `{"secretId":"s","jobToken":"t","action":"execute"}`
	vectorSignature = "v1=7c8353878444558a7468da480edbd7b4ac0641021cdba2aadb6dfaf73185b6c8"
)

func TestSignVector(t *testing.T) {
	if got := webhook.Sign([]byte(vectorSecret), vectorTimestamp, []byte(vectorBody)); got != vectorSignature {
		t.Fatalf("Sign = %s, want %s", got, vectorSignature)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(vectorTimestamp, 0).Add(time.Minute)
	ok := func(secret, ts, sig, body string, now time.Time) error {
		return webhook.Verify([]byte(secret), ts, sig, []byte(body), now, 5*time.Minute)
	}
	if err := ok(vectorSecret, "1700000000", vectorSignature, vectorBody, now); err != nil {
		t.Fatalf("the vector: %v", err)
	}
	for name, err := range map[string]error{
		"other secret":    ok("other", "1700000000", vectorSignature, vectorBody, now),
		"other body":      ok(vectorSecret, "1700000000", vectorSignature, vectorBody+" ", now),
		"other timestamp": ok(vectorSecret, "1700000001", vectorSignature, vectorBody, now),
		"bad timestamp":   ok(vectorSecret, "17e8", vectorSignature, vectorBody, now),
		"stale":           ok(vectorSecret, "1700000000", vectorSignature, vectorBody, now.Add(5*time.Minute)),
		"future":          ok(vectorSecret, "1700000000", vectorSignature, vectorBody, now.Add(-7*time.Minute)),
		"no prefix":       ok(vectorSecret, "1700000000", vectorSignature[3:], vectorBody, now),
		"plus sign":       ok(vectorSecret, "+1700000000", vectorSignature, vectorBody, now),
	} {
		if !errors.Is(err, webhook.ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
}

func TestCheck(t *testing.T) {
	c := webhook.New(webhook.Config{})
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://metadata.google.internal/",
		"http://METADATA.google.internal./x", "http://[fd00:ec2::254]/", "http://100.100.100.200/",
		"http://[::ffff:169.254.169.254]/", "ftp://example.com/", "http://user:pw@example.com/", "/relative", "",
	} {
		if err := c.Check(u); err == nil {
			t.Errorf("Check(%q) = nil, want a refusal", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/hook", "https://rotate.example.com/x?y=1", "http://10.0.0.5/"} {
		if err := c.Check(u); err != nil {
			t.Errorf("Check(%q) = %v", u, err)
		}
	}
	allow := webhook.New(webhook.Config{AllowLinkLocal: true})
	if err := allow.Check("http://169.254.169.254/"); err != nil {
		t.Errorf("with AllowLinkLocal: %v", err)
	}
}

func TestDeliverSigned(t *testing.T) {
	secret := []byte("s3cret")
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got.Add(1)
	}))
	defer srv.Close()
	c := webhook.New(webhook.Config{Backoff: time.Millisecond})
	if err := c.Deliver(t.Context(), srv.URL, secret, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got.Load() != 1 {
		t.Fatalf("%d deliveries verified", got.Load())
	}
	// A refusal (4xx) is not retried.
	if err := c.Deliver(t.Context(), srv.URL, []byte("wrong"), []byte(`{}`)); err == nil {
		t.Fatal("a delivery the receiver refused succeeded")
	}
}

func TestDeliverRetries(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	c := webhook.New(webhook.Config{Backoff: time.Millisecond, Attempts: 3})
	if err := c.Deliver(t.Context(), srv.URL, []byte("k"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	n.Store(-10)
	start := time.Now()
	err := c.Deliver(t.Context(), srv.URL, []byte("k"), []byte(`{}`))
	if err == nil || n.Load() != -7 {
		t.Fatalf("err %v after %d attempts, want an error after 3", err, n.Load()+10)
	}
	if time.Since(start) < 3*time.Millisecond {
		t.Errorf("no backoff between attempts")
	}
}

func TestDeliverTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := webhook.New(webhook.Config{Timeout: 20 * time.Millisecond, Backoff: time.Millisecond, Attempts: 2})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Deliver(ctx, srv.URL, []byte("k"), []byte(`{}`)); err == nil {
		t.Fatal("a receiver that never answers got the delivery")
	}
}

func TestDialRefuses(t *testing.T) {
	// A name that resolved to a public address when the trigger was
	// created may resolve to a metadata address later: the address
	// dialled is checked again.
	c := webhook.New(webhook.Config{})
	for _, a := range []string{"169.254.169.254:80", "[fe80::1%eth0]:80", "[::ffff:169.254.1.1]:443", "100.100.100.200:80"} {
		if err := c.Control(a); !errors.Is(err, webhook.ErrRefused) {
			t.Errorf("dial %s: %v, want ErrRefused", a, err)
		}
	}
	if err := c.Control("127.0.0.1:80"); err != nil {
		t.Errorf("dial loopback: %v", err)
	}
	if err := webhook.New(webhook.Config{AllowLinkLocal: true}).Control("169.254.169.254:80"); err != nil {
		t.Errorf("with AllowLinkLocal: %v", err)
	}
}
