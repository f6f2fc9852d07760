package limit_test

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/limit"
)

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func key(k, project string) *coffer.Caller {
	return &coffer.Caller{Principal: &coffer.Principal{ID: "p"}, AccessKey: k, DefaultProjectID: project}
}

// refusal checks that err is a refusal for reason and returns its wait.
func refusal(t *testing.T, err error, reason string) time.Duration {
	t.Helper()
	if coffer.ErrorCode(err) != coffer.ETOOMANY {
		t.Fatalf("error %v: want code %s", err, coffer.ETOOMANY)
	}
	r, ok := err.(*limit.Refusal)
	if !ok || r.Reason != reason {
		t.Fatalf("error %#v: want a refusal for %s", err, reason)
	}
	d, _ := limit.RetryAfter(err)
	return d
}

func TestKeyBucket(t *testing.T) {
	c := newClock()
	l := limit.New(limit.Config{Key: limit.Rate{PerSecond: 2, Burst: 3}, Now: c.Now})
	a := key("A", "p1")
	for i := range 3 {
		tk, err := l.Caller(a)
		if err != nil {
			t.Fatalf("request %d of the burst: %v", i, err)
		}
		tk.Done()
	}
	_, err := l.Caller(a)
	if d := refusal(t, err, limit.ReasonKey); d != 500*time.Millisecond {
		t.Errorf("retry after %v, want 500ms (one token at 2/s)", d)
	}
	if got := limit.RetryAfterSeconds(500 * time.Millisecond); got != 1 {
		t.Errorf("Retry-After of 500ms = %d, want 1", got)
	}
	// Another key has its own bucket.
	if _, err := l.Caller(key("B", "p1")); err != nil {
		t.Errorf("another key: %v", err)
	}
	c.Advance(500 * time.Millisecond)
	if _, err := l.Caller(a); err != nil {
		t.Errorf("after the wait: %v", err)
	}
	if got := l.Refused()[limit.ReasonKey]; got != 1 {
		t.Errorf("refused for key: %d, want 1", got)
	}
}

func TestProjectRate(t *testing.T) {
	c := newClock()
	l := limit.New(limit.Config{
		Key:      limit.Rate{PerSecond: 1, Burst: 1},
		Projects: map[string]limit.Rate{"big": {PerSecond: 100, Burst: 10}, "free": {}},
		Now:      c.Now,
	})
	count := func(caller *coffer.Caller) int {
		n := 0
		for range 20 {
			if _, err := l.Caller(caller); err == nil {
				n++
			}
		}
		return n
	}
	if n := count(key("small", "other")); n != 1 {
		t.Errorf("a key of a project without its own rate passed %d of 20, want 1", n)
	}
	if n := count(key("large", "big")); n != 10 {
		t.Errorf("a key of project big passed %d of 20, want its burst, 10", n)
	}
	if n := count(key("free", "free")); n != 20 {
		t.Errorf("a key of project free (rate 0: no limit) passed %d of 20", n)
	}
	cert := &coffer.Caller{Principal: &coffer.Principal{ID: "p"}, CertificateSerial: "01", ProjectScope: "big"}
	if n := count(cert); n != 10 {
		t.Errorf("a certificate of project big passed %d of 20, want 10", n)
	}
}

func TestConcurrency(t *testing.T) {
	l := limit.New(limit.Config{MaxConcurrent: 2})
	a := key("A", "p")
	t1, err := l.Caller(a)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := l.Caller(a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Caller(a)
	refusal(t, err, limit.ReasonConcurrency)
	if _, err := l.Caller(key("B", "p")); err != nil {
		t.Errorf("another key: %v", err)
	}
	t1.Done()
	t3, err := l.Caller(a)
	if err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	t2.Done()
	t3.Done()
}

func TestAuthFailures(t *testing.T) {
	c := newClock()
	l := limit.New(limit.Config{AuthFailures: 3, Now: c.Now})
	// Addresses that never failed take no memory.
	for i := range 100 {
		if err := l.Source(fmt.Sprintf("198.51.100.%d:1", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.Entries(); n != 0 {
		t.Errorf("%d entries for addresses without failures", n)
	}
	const src = "192.0.2.7:51234"
	for i := range 3 {
		if err := l.Source(src, nil); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		l.Failed(src, nil)
	}
	d := refusal(t, l.Source(src, nil), limit.ReasonAuthFailure)
	if d != 20*time.Second {
		t.Errorf("retry after %v, want 20s (3 a minute)", d)
	}
	// Another port of the same host is the same source; another host is
	// not.
	refusal(t, l.Source("192.0.2.7:40000", nil), limit.ReasonAuthFailure)
	if err := l.Source("192.0.2.8:40000", nil); err != nil {
		t.Errorf("another host: %v", err)
	}
	c.Advance(20 * time.Second)
	if err := l.Source(src, nil); err != nil {
		t.Errorf("once a failure decayed: %v", err)
	}
}

func TestSourceBucketIPv6(t *testing.T) {
	c := newClock()
	l := limit.New(limit.Config{Source: limit.Rate{PerSecond: 1, Burst: 2}, Now: c.Now})
	// One /64: one bucket, whatever the interface identifier.
	for i, src := range []string{"[2001:db8:1:2::1]:1000", "[2001:db8:1:2:ffff::9]:1001"} {
		if err := l.Source(src, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	refusal(t, l.Source("[2001:db8:1:2::77]:1002", nil), limit.ReasonSource)
	if err := l.Source("[2001:db8:1:3::1]:1000", nil); err != nil {
		t.Errorf("another /64: %v", err)
	}
	// An address that does not parse is not limited (a test's pipe).
	if err := l.Source("pipe", nil); err != nil {
		t.Errorf("unparsable address: %v", err)
	}
}

// TestBounded sends requests from many more addresses and keys than the
// maps may hold: they stay within their bound.
func TestBounded(t *testing.T) {
	c := newClock()
	const bound = 256
	l := limit.New(limit.Config{
		Source: limit.Rate{PerSecond: 1, Burst: 1}, Key: limit.Rate{PerSecond: 1, Burst: 1},
		AuthFailures: 5, MaxEntries: bound, Now: c.Now,
	})
	for i := range 20000 {
		src := fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)
		_ = l.Source(src, nil)
		l.Failed(src, nil)
		_, _ = l.Caller(key(fmt.Sprint("K", i), "p"))
		if i%1000 == 0 {
			c.Advance(time.Millisecond)
		}
	}
	if n := l.Entries(); n > 2*bound {
		t.Errorf("%d entries, want at most %d (keys and sources)", n, 2*bound)
	}
	// A bucket of an address seen again after others pushed it out may
	// be new; one seen just now is not.
	const src = "198.51.100.1:1"
	if err := l.Source(src, nil); err != nil {
		t.Fatal(err)
	}
	refusal(t, l.Source(src, nil), limit.ReasonSource)
}

// TestTrustedProxies counts a request that a trusted proxy forwards under
// the client's address, and ignores X-Forwarded-For from anyone else.
func TestTrustedProxies(t *testing.T) {
	c := newClock()
	l := limit.New(limit.Config{
		Source:         limit.Rate{PerSecond: 1, Burst: 1},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")},
		Now:            c.Now,
	})
	// Two clients behind one proxy: a bucket each.
	if err := l.Source("10.0.0.1:443", []string{"203.0.113.1"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Source("10.0.0.1:443", []string{"198.51.100.9, 203.0.113.2"}); err != nil {
		t.Fatalf("another client: %v", err)
	}
	// Through two proxies, and with a spoofed first hop: the last
	// address a trusted proxy wrote counts.
	refusal(t, l.Source("10.0.0.1:443", []string{"192.0.2.66, 203.0.113.1", "10.9.9.9"}), limit.ReasonSource)
	refusal(t, l.Source("[fd00::1]:443", []string{"garbage, 203.0.113.2, 10.1.1.1"}), limit.ReasonSource)
	// A peer that is no proxy is counted as itself, whatever it says.
	if err := l.Source("192.0.2.1:1", []string{"203.0.113.77"}); err != nil {
		t.Fatal(err)
	}
	refusal(t, l.Source("192.0.2.1:2", []string{"203.0.113.78"}), limit.ReasonSource)
	// Only proxies: the first of them.
	if err := l.Source("10.0.0.2:443", []string{"10.0.0.3"}); err != nil {
		t.Fatal(err)
	}
	refusal(t, l.Source("10.0.0.4:443", []string{"10.0.0.3"}), limit.ReasonSource)
}

func TestNil(t *testing.T) {
	l := limit.New(limit.Config{})
	if l != nil {
		t.Fatal("a Config that limits nothing gives a Limiter")
	}
	if err := l.Source("192.0.2.1:1", nil); err != nil {
		t.Error(err)
	}
	l.Failed("192.0.2.1:1", nil)
	tk, err := l.Caller(key("A", "p"))
	if err != nil {
		t.Error(err)
	}
	tk.Done()
}

// BenchmarkCaller is the cost of admitting a request of a known key.
func BenchmarkCaller(b *testing.B) {
	l := limit.New(limit.Config{Key: limit.Rate{PerSecond: 1e9, Burst: 1e9}, Source: limit.Rate{PerSecond: 1e9, Burst: 1e9}, MaxConcurrent: 1 << 20})
	c := key("SCWAAAAAAAAAAAAAAAAA", "p")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Source("192.0.2.1:5555", nil); err != nil {
				b.Fatal(err)
			}
			tk, err := l.Caller(c)
			if err != nil {
				b.Fatal(err)
			}
			tk.Done()
		}
	})
}
