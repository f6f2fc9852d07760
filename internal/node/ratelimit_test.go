package node_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// withRateLimits sets a node's rate limits.
func withRateLimits(cfg limit.Config) nodetest.Option {
	return func(c *node.Config) { c.RateLimits = cfg }
}

// tooMany sends a request and checks that it is refused with a 429 and a
// Retry-After of retry seconds; it returns the body.
func tooMany(t *testing.T, n *nodetest.Node, method, path string, retry int, header ...string) (string, string) {
	t.Helper()
	req, err := http.NewRequest(method, n.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s %s: status %d, want 429: %s", method, path, resp.StatusCode, body)
	}
	if got := resp.Header.Get("Retry-After"); got != strconv.Itoa(retry) {
		t.Errorf("%s %s: Retry-After %q, want %d", method, path, got, retry)
	}
	return string(body), resp.Header.Get("X-Request-Id")
}

// TestTooManyRequestsEveryDialect throttles the test's address for failed
// authentications and checks that every dialect then answers its requests
// with its own 429 body and Retry-After, without checking their
// credentials, that the refusals are audited, and that the address is
// served again once the failures decay.
func TestTooManyRequestsEveryDialect(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, withRateLimits(limit.Config{AuthFailures: 2, Now: clock.Now}))
	ctx := as(t, n)
	key, project := n.Creds.SecretKey, n.Creds.ProjectID
	scw := "/secret-manager/v1beta1/regions/fr-par/secrets"

	// Two refused credentials: the third attempt is throttled, even with
	// a good credential.
	for range 2 {
		if code, body, _ := auditCall(t, n, "GET", scw, "", "X-Auth-Token", badToken); code != http.StatusUnauthorized {
			t.Fatalf("bad token: status %d: %s", code, body)
		}
	}
	// 2 a minute: the next failure is forgotten in 30 s.
	const retry = 30
	cases := []struct {
		name, method, path string
		header             []string
		want               func(body string) error
	}{
		{"scaleway", "GET", scw, []string{"X-Auth-Token", key}, func(body string) error {
			var b struct{ Type, Message string }
			if err := json.Unmarshal([]byte(body), &b); err != nil || b.Type != "too_many_requests" || b.Message == "" {
				return fmt.Errorf("want type too_many_requests and a message (%v)", err)
			}
			return nil
		}},
		{"vaultkv", "GET", "/v1/secret/data/a/b", []string{"X-Vault-Token", key}, func(body string) error {
			var b struct{ Errors []string }
			if err := json.Unmarshal([]byte(body), &b); err != nil || len(b.Errors) != 1 || !strings.Contains(b.Errors[0], "too many") {
				return fmt.Errorf("want one error saying too many (%v)", err)
			}
			return nil
		}},
		{"okms", "GET", "/api/" + project + "/v2/secret", []string{"Authorization", "Bearer " + key}, func(body string) error {
			var b struct {
				ErrorCode int32  `json:"error_code"`
				ErrorID   string `json:"error_id"`
				RequestID string `json:"request_id"`
				Errors    []string
			}
			if err := json.Unmarshal([]byte(body), &b); err != nil || b.ErrorCode != 50434049 || len(b.Errors) == 0 || b.RequestID == "" {
				return fmt.Errorf("want error_code 50434049, errors and a request id (%v)", err)
			}
			return nil
		}},
		{"ncloud", "GET", "/api/v1/secrets", []string{"x-ncp-iam-access-key", n.Creds.AccessKey}, func(body string) error {
			var b struct {
				Error struct{ ErrorCode, Message, Details string }
			}
			if err := json.Unmarshal([]byte(body), &b); err != nil || b.Error.ErrorCode != "TOO_MANY_REQUESTS" || b.Error.Message == "" {
				return fmt.Errorf("want errorCode TOO_MANY_REQUESTS (%v)", err)
			}
			return nil
		}},
		{"imco", "GET", "/v3/secret/key_vaults", []string{"Authorization", "Bearer " + key}, func(body string) error {
			var b struct{ Error string }
			if err := json.Unmarshal([]byte(body), &b); err != nil || !strings.Contains(b.Error, "too many") {
				return fmt.Errorf("want an error saying too many (%v)", err)
			}
			return nil
		}},
		{"admin", "GET", "/coffer/v1/system", []string{"Authorization", "Bearer " + key}, func(body string) error {
			var b struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(body), &b); err != nil || b.Error.Code != coffer.ETOOMANY {
				return fmt.Errorf("want code %s (%v)", coffer.ETOOMANY, err)
			}
			return nil
		}},
	}
	ids := map[string]string{}
	for _, c := range cases {
		body, id := tooMany(t, n, c.method, c.path, retry, c.header...)
		if err := c.want(body); err != nil {
			t.Errorf("%s: %s: %v", c.name, body, err)
		}
		ids[c.name] = id
	}

	// The official Vault client sees a 429 too.
	vc, err := vault.NewClient(&vault.Config{Address: n.URL, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(key)
	_, err = vc.KVv2("secret").Get(t.Context(), "a/b")
	var re *vault.ResponseError
	if !asResponseError(err, &re) || re.StatusCode != http.StatusTooManyRequests {
		t.Errorf("vault client: %v, want a 429", err)
	}

	// Each refusal is audited: denied, too_many_requests, no caller (its
	// credential was never checked).
	recs := auditRecords(t, ctx, n)
	for name, id := range ids {
		r := byRequestID(t, recs, id)
		if r.Status != 429 || r.Outcome != coffer.AuditDenied || r.ErrorCode != coffer.ETOOMANY || r.PrincipalID != "" {
			t.Errorf("%s: record %+v, want status 429, denied, %s, no principal", name, r, coffer.ETOOMANY)
		}
	}

	// Once a failure is forgotten, the address is served again.
	clock.Advance(retry * time.Second)
	if code, body, _ := auditCall(t, n, "GET", scw, "", "X-Auth-Token", key); code != http.StatusOK {
		t.Errorf("after %ds: status %d: %s", retry, code, body)
	}
}

func asResponseError(err error, re **vault.ResponseError) bool {
	for err != nil {
		if e, ok := err.(*vault.ResponseError); ok {
			*re = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// TestKeyRateLimit spends a key's burst through the Scaleway API and
// checks the refusal's Retry-After, that another key is not affected, that
// a project's own rate applies to its keys, and recovery after the wait.
func TestKeyRateLimit(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, withRateLimits(limit.Config{
		Key: limit.Rate{PerSecond: 0.25, Burst: 3}, Now: clock.Now,
	}))
	key := n.Creds.SecretKey
	path := "/secret-manager/v1beta1/regions/fr-par/secrets"
	for i := range 3 {
		if code, body, _ := auditCall(t, n, "GET", path, "", "X-Auth-Token", key); code != http.StatusOK {
			t.Fatalf("request %d of the burst: %d %s", i, code, body)
		}
	}
	// 0.25 a second: a token in 4 s.
	tooMany(t, n, "GET", path, 4, "X-Auth-Token", key)
	// Vault, the same key: the same bucket.
	tooMany(t, n, "GET", "/v1/secret/metadata/?list=true", 4, "X-Vault-Token", key)

	clock.Advance(4 * time.Second)
	if code, body, _ := auditCall(t, n, "GET", path, "", "X-Auth-Token", key); code != http.StatusOK {
		t.Errorf("after the wait: %d %s", code, body)
	}
	tooMany(t, n, "GET", path, 4, "X-Auth-Token", key)
}

// TestProjectRateLimit gives the admin's project a rate of its own.
func TestProjectRateLimit(t *testing.T) {
	clock := nodetest.NewClock()
	cfg := limit.Config{Key: limit.Rate{PerSecond: 100, Burst: 100}, Now: clock.Now}
	n := nodetest.Start(t, withRateLimits(cfg))
	// The project id is known once the node has started: restart it on
	// the same data with the project's rate.
	project := n.Creds.ProjectID
	n.Stop(t)
	cfg.Projects = map[string]limit.Rate{project: {PerSecond: 1, Burst: 1}}
	n2 := nodetest.Start(t, nodetest.WithDataDir(n.DataDir, n.RootKey), nodetest.WithStore(n.Store),
		withRateLimits(cfg))
	path := "/secret-manager/v1beta1/regions/fr-par/secrets"
	if code, body, _ := auditCall(t, n2, "GET", path, "", "X-Auth-Token", n2.Creds.SecretKey); code != http.StatusOK {
		t.Fatalf("first request: %d %s", code, body)
	}
	tooMany(t, n2, "GET", path, 1, "X-Auth-Token", n2.Creds.SecretKey)
}

// TestConcurrencyCap holds a request of a key under way (its body not
// yet sent) and checks that the key's next request is refused until it
// ends.
func TestConcurrencyCap(t *testing.T) {
	n := nodetest.Start(t, withRateLimits(limit.Config{MaxConcurrent: 1}))
	key := n.Creds.SecretKey
	u, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"name":"held","project_id":"` + n.Creds.ProjectID + `"}`
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers and all of the body but its last byte: the handler, past
	// authentication, waits for the rest.
	head := fmt.Sprintf("POST /secret-manager/v1beta1/regions/fr-par/secrets HTTP/1.1\r\nHost: %s\r\nX-Auth-Token: %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", u.Host, key, len(body), body[:len(body)-1])
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	// The request reaches its handler at some point: until then, reads
	// pass.
	path := "/secret-manager/v1beta1/regions/fr-par/secrets"
	for {
		code, b, _ := auditCall(t, n, "GET", path, "", "X-Auth-Token", key)
		if code == http.StatusTooManyRequests {
			var e struct{ Type string }
			if err := json.Unmarshal([]byte(b), &e); err != nil || e.Type != "too_many_requests" {
				t.Fatalf("429 body %s", b)
			}
			break
		}
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, b)
		}
	}
	if _, err := conn.Write([]byte(body[len(body)-1:])); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the held request: status %d", resp.StatusCode)
	}
	if code, b, _ := auditCall(t, n, "GET", path, "", "X-Auth-Token", key); code != http.StatusOK {
		t.Errorf("once it ended: %d %s", code, b)
	}
}

// TestTrustedProxy has the test's address act as a trusted proxy: each
// client it names in X-Forwarded-For has its own count of failed
// authentications.
func TestTrustedProxy(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, withRateLimits(limit.Config{
		AuthFailures: 1, Now: clock.Now,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	}))
	path := "/secret-manager/v1beta1/regions/fr-par/secrets"
	if code, body, _ := auditCall(t, n, "GET", path, "", "X-Auth-Token", badToken, "X-Forwarded-For", "203.0.113.1"); code != http.StatusUnauthorized {
		t.Fatalf("bad token: %d %s", code, body)
	}
	tooMany(t, n, "GET", path, 60, "X-Auth-Token", n.Creds.SecretKey, "X-Forwarded-For", "203.0.113.1")
	if code, body, _ := auditCall(t, n, "GET", path, "", "X-Auth-Token", n.Creds.SecretKey, "X-Forwarded-For", "203.0.113.2"); code != http.StatusOK {
		t.Errorf("another client behind the proxy: %d %s", code, body)
	}
}
