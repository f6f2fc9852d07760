package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeMetricsAndLimits runs a real `coffer serve` with a metrics token
// and a key rate: /metrics wants the token, and a key past its burst gets
// a 429 with Retry-After.
func TestServeMetricsAndLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(t.TempDir(), "metrics.token")
	if err := os.WriteFile(tokenFile, []byte("  serve-test-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	startServer(t, dir, addr, "--metrics-token-file", tokenFile, "--rate-limit-key", "0.001", "--rate-limit-key-burst", "2")
	var creds struct {
		SecretKey string `json:"secret_key"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "admin-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	get := func(path string, header ...string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+addr+path, nil)
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
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, string(body)
	}
	list := "/secret-manager/v1beta1/regions/fr-par/secrets"
	for i := range 2 {
		if code, _, body := get(list, "X-Auth-Token", creds.SecretKey); code != http.StatusOK {
			t.Fatalf("request %d of the burst: %d %s", i, code, body)
		}
	}
	code, h, body := get(list, "X-Auth-Token", creds.SecretKey)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") != "1000" || !strings.Contains(body, `"too_many_requests"`) {
		t.Errorf("past the burst: %d, Retry-After %q, %s; want 429, 1000 s (one request per 1000 s)", code, h.Get("Retry-After"), body)
	}

	if code, _, _ := get("/metrics"); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d", code)
	}
	code, _, body = get("/metrics", "Authorization", "Bearer serve-test-token")
	if code != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", code)
	}
	for _, want := range []string{
		`coffer_http_requests_total{code="429",dialect="scaleway",route="GET /secret-manager/v1beta1/regions/{region}/secrets"} 1`,
		`coffer_ratelimit_refused_total{reason="key"} 1`,
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestServeLimitFlags checks that serve refuses bad limit flags.
func TestServeLimitFlags(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--rate-limit-key", "-1"},
		{"--rate-limit-project", "no-rate"},
		{"--rate-limit-project", "p=fast"},
		{"--rate-limit-project", "p=1:-2"},
		{"--max-concurrent-per-key", "-1"},
		{"--trusted-proxies", "10.0.0.0/8,proxy.example"},
		{"--metrics-token-file", empty},
		{"--metrics-token-file", filepath.Join(t.TempDir(), "missing")},
	} {
		var stderr strings.Builder
		args = append([]string{"--data-dir", t.TempDir()}, args...)
		if code := serve(context.Background(), args, io.Discard, &stderr, func(string) string { return "" }); code != 2 {
			t.Errorf("serve %v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}
