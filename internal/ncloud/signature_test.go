package ncloud_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
)

// TestSignVectors checks the test client's signer against the spec's test
// vectors (§2), computed with openssl and Python.
func TestSignVectors(t *testing.T) {
	for _, tc := range []struct{ method, uri, want string }{
		{"GET", "/api/v1/secrets?pageNo=1", "E5s1omdmUOtSnBqsoqGwyho6Cl5Qcisf81w2quL63gQ="},
		{"POST", "/api/v1/secrets", "rJMJw0ZwYMLVHB7M/AiPu/h8paxCGOA2/Sb8rWitTvM="},
	} {
		if got := sign("TESTSECRETKEY", tc.method, tc.uri, "1700000000000", "TESTACCESSKEY"); got != tc.want {
			t.Errorf("sign(%s %s) = %s, want %s", tc.method, tc.uri, got, tc.want)
		}
	}
}

// TestSignatureRefused sends requests whose signature is wrong in every way
// the spec names: each gets the same 401 envelope, with the same details,
// on the management and the action API, and under the regional prefix.
func TestSignatureRefused(t *testing.T) {
	n, c, clock := start(t)
	now := clock.Now()
	const p = "/api/v1/secrets?pageNo=1"
	var details string
	for _, tc := range []struct {
		name string
		c    *client
		p    string
		s    signing
	}{
		{"no headers", c, p, signing{header: []string{"x-ncp-apigw-timestamp", "-", "x-ncp-iam-access-key", "-", "x-ncp-apigw-signature-v2", "-"}}},
		{"no signature", c, p, signing{header: []string{"x-ncp-apigw-signature-v2", "-"}}},
		{"no timestamp", c, p, signing{header: []string{"x-ncp-apigw-timestamp", "-"}}},
		{"no access key", c, p, signing{header: []string{"x-ncp-iam-access-key", "-"}}},
		{"six minutes late", c, p, signing{at: now.Add(-6 * time.Minute)}},
		{"six minutes early", c, p, signing{at: now.Add(6 * time.Minute)}},
		{"timestamp in seconds", c, p, signing{header: []string{"x-ncp-apigw-timestamp", "1783092474"}}},
		{"timestamp not a number", c, p, signing{header: []string{"x-ncp-apigw-timestamp", "-1783092474000"}}},
		{"another method", c, p, signing{method: "POST"}},
		{"another path", c, p, signing{uri: "/api/v1/keys"}},
		{"another query", c, p, signing{uri: "/api/v1/secrets?pageNo=2"}},
		{"without the regional prefix", c.regional(), p, signing{uri: p}},
		{"another secret key", c, p, signing{secretKey: "00000000-0000-4000-8000-000000000000"}},
		{"unknown access key", c, p, signing{header: []string{"x-ncp-iam-access-key", "SCWAAAAAAAAAAAAAAAAA"}}},
		{"signature not base64", c, p, signing{header: []string{"x-ncp-apigw-signature-v2", "not base64!"}}},
		{"short signature", c, p, signing{header: []string{"x-ncp-apigw-signature-v2", "AAAA"}}},
		{"secret key as a bearer token", c, p, signing{header: []string{"x-ncp-apigw-signature-v2", "-", "Authorization", "Bearer " + n.Creds.SecretKey}}},
		{"action API", c, "/action/v1/secrets/x/jobs/y/start", signing{secretKey: "wrong"}},
		{"unknown path", c, "/api/v1/nothing", signing{secretKey: "wrong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.doSigned(http.MethodGet, tc.p, "", tc.s)
			d := checkError(t, tc.name, r, http.StatusUnauthorized, "UNAUTHORIZED")
			if details == "" {
				details = d
			} else if d != details {
				t.Errorf("details %q, want the same as every other failure: %q", d, details)
			}
		})
	}
}

// TestSignatureAccepted: a signature within five minutes either way, the
// -v1 header name, the regional prefix.
func TestSignatureAccepted(t *testing.T) {
	_, c, clock := start(t)
	now := clock.Now()
	for _, tc := range []struct {
		name string
		c    *client
		s    signing
	}{
		{"now", c, signing{}},
		{"regional", c.regional(), signing{}},
		{"almost five minutes late", c, signing{at: now.Add(-5*time.Minute + time.Second)}},
		{"almost five minutes early", c, signing{at: now.Add(5*time.Minute - time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.doSigned(http.MethodGet, "/api/v1/secrets?pageNo=1", "", tc.s)
			if r.Status != http.StatusOK {
				t.Errorf("status %d: %s", r.Status, r.Body)
			}
		})
	}
	t.Run("v1 header", func(t *testing.T) {
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		r := c.doSigned(http.MethodGet, "/api/v1/secrets", "", signing{header: []string{
			"x-ncp-apigw-signature-v1", sign(c.secretKey, "GET", "/api/v1/secrets", ts, c.accessKey),
			"x-ncp-apigw-signature-v2", "-",
		}})
		if r.Status != http.StatusOK {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	})
}

// TestSignatureDisabledKey: a disabled key, and a key that expired, sign
// nothing; the same credential works as a bearer token elsewhere until then.
func TestSignatureDisabledKey(t *testing.T) {
	n, c, _ := start(t)
	ctx := adminContext(t, n)
	k, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: coffer.CallerFromContext(ctx).Principal.ID})
	if err != nil {
		t.Fatal(err)
	}
	kc := newClient(t, n, c.clock, k.AccessKey, k.SecretKey)
	kc.ok(http.MethodGet, "/api/v1/secrets", "", nil)
	if _, err := n.Engine.SetAPIKeyDisabled(ctx, k.AccessKey, true); err != nil {
		t.Fatal(err)
	}
	kc.fail(http.StatusUnauthorized, "UNAUTHORIZED", http.MethodGet, "/api/v1/secrets", "")
}
