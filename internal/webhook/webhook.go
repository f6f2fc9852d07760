// Package webhook delivers rotation triggers: a signed POST to a URL the
// user chose, with a bounded timeout and bounded retries, never to an
// address the server must not reach on a user's behalf.
//
// A delivery carries two headers: X-Coffer-Timestamp, the time of sending
// in Unix seconds, and X-Coffer-Signature, "v1=" and the lower-case hex of
// HMAC-SHA256(signing secret, timestamp + "." + body). A receiver recomputes
// the MAC over the raw body, compares in constant time and refuses a
// timestamp too far from its clock (Verify), so that a captured request
// cannot be replayed later.
//
// Addresses: a URL is refused when its host is a cloud metadata name or
// when it, or any address it resolves to at the moment of the connection,
// is link-local (169.254.0.0/16, fe80::/10) or a metadata address
// (fd00:ec2::254, 100.100.100.200). The check runs again at dial time, on
// the address actually dialled, so that a name that resolved to a public
// address when the trigger was created and to a metadata address later is
// still refused. Loopback and private networks are allowed: coffer is
// self-hosted, and its users' rotation functions often live next to it.
// AllowLinkLocal (the server's --webhook-allow-link-local) turns the
// refusal off.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Header names of a delivery.
const (
	HeaderSignature = "X-Coffer-Signature"
	HeaderTimestamp = "X-Coffer-Timestamp"
)

// Sign returns the signature header value of body sent at timestamp (Unix
// seconds).
func Sign(secret []byte, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// ErrSignature is every failure of Verify.
var ErrSignature = errors.New("webhook: bad signature")

// Verify checks the headers of a delivery of body against secret: the
// signature must match and the timestamp be within tolerance of now.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != timestamp {
		// Only the form Sign signed ("+1", "01" are other strings).
		return ErrSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrSignature
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return ErrSignature
	}
	return nil
}

// metadataHosts are the names of cloud instance metadata services.
var metadataHosts = []string{
	"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
	"metadata.azure.com", "metadata.tencentyun.com",
}

// metadataAddrs are metadata services outside the link-local ranges.
var metadataAddrs = []netip.Addr{netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("100.100.100.200")}

// ErrRefused is the error of a URL or address a trigger may not reach.
var ErrRefused = errors.New("webhook: the address is link-local or a cloud metadata service")

// refusedAddr reports whether a is link-local or a metadata address.
func refusedAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
		return true
	}
	for _, m := range metadataAddrs {
		if a == m {
			return true
		}
	}
	return false
}

// Config configures a Client. Zero fields take the defaults.
type Config struct {
	// Timeout bounds each attempt; 10 s.
	Timeout time.Duration
	// Attempts bounds the attempts of one delivery; 4.
	Attempts int
	// Backoff is the wait after the first failed attempt, doubled after
	// each next one; 1 s.
	Backoff time.Duration
	// AllowLinkLocal lets triggers reach link-local and metadata
	// addresses.
	AllowLinkLocal bool
	// Now returns the time that the timestamp header gives; time.Now.
	Now func() time.Time
}

// Client delivers triggers.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a Client.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 4
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg}
	d := &net.Dialer{Timeout: cfg.Timeout, Control: c.control}
	t := &http.Transport{
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       time.Minute,
		// No proxy: a proxy would dial the refused addresses for us.
	}
	c.http = &http.Client{Transport: t, Timeout: cfg.Timeout,
		// A redirect could lead anywhere: a trigger answers itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c
}

// control refuses, at dial time, an address a trigger may not reach.
func (c *Client) control(_, address string, _ syscall.RawConn) error {
	if c.cfg.AllowLinkLocal {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: dial %s: %w", address, err)
	}
	if refusedAddr(ap.Addr()) {
		return ErrRefused
	}
	return nil
}

// Check refuses a URL a trigger may not have: not absolute http(s), with
// user information, or whose host is a metadata name or a refused address
// literal.
func (c *Client) Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("the URL must be an absolute http or https URL without user information or fragment")
	}
	if len(raw) > 2048 {
		return errors.New("the URL is longer than 2048 bytes")
	}
	if c.cfg.AllowLinkLocal {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, m := range metadataHosts {
		if host == m {
			return ErrRefused
		}
	}
	if a, err := netip.ParseAddr(host); err == nil && refusedAddr(a) {
		return ErrRefused
	}
	return nil
}

// Deliver POSTs body to rawURL signed with secret, until an attempt gets a
// 2xx answer or the attempts run out; it returns the last attempt's error.
// A 4xx answer but 408 and 429 is not retried: the receiver refused.
func (c *Client) Deliver(ctx context.Context, rawURL string, secret, body []byte) error {
	if err := c.Check(rawURL); err != nil {
		return err
	}
	wait := c.cfg.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		var retry bool
		retry, err = c.attempt(ctx, rawURL, secret, body)
		if err == nil || !retry || attempt >= c.cfg.Attempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %d attempts: %w)", ctx.Err(), attempt, err)
		case <-t.C:
		}
		wait *= 2
	}
	if err != nil {
		return fmt.Errorf("trigger delivery failed: %w", err)
	}
	return nil
}

// attempt makes one attempt; retry says whether another may succeed.
func (c *Client) attempt(ctx context.Context, rawURL string, secret, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	ts := c.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "coffer-trigger/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return false, ErrRefused
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			// The URL of a url.Error is the trigger's, which the error
			// need not repeat.
			err = ue.Err
		}
		return true, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return false, fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return true, fmt.Errorf("the receiver answered %s", resp.Status)
}
