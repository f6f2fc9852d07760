package node_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestUncleanPathsAreRefused sends paths with "..", "." and empty segments:
// each must be refused with a 400 in the dialect's format, never redirected
// to the cleaned path (a client that follows the redirect with the same
// method would delete the secret instead of one version), and nothing may
// change.
func TestUncleanPathsAreRefused(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	id := write(t, ctx, n, "kept", coffer.TypeOpaque, "value")
	base := "/secret-manager/v1beta1/regions/fr-par/secrets/" + id
	for _, tc := range []struct{ method, path string }{
		{"DELETE", base + "/versions/../.."},
		{"DELETE", base + "/versions/1/.."},
		{"POST", base + "/versions/1/../../protect"},
		{"GET", base + "/./versions"},
		{"GET", base + "//versions"},
		{"DELETE", base + "/versions/%2e%2e/%2e%2e"},
		{"GET", "/secret-manager/v1beta1/regions/fr-par/secrets/../secrets"},
	} {
		req := httptest.NewRequest(tc.method, "http://coffer"+tc.path, nil)
		req.Header.Set("X-Auth-Token", n.Creds.SecretKey)
		rec := httptest.NewRecorder()
		n.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
			t.Errorf("%s %s: %d (Location %q), want 400 and no redirect", tc.method, tc.path, rec.Code, rec.Header().Get("Location"))
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
		}
		if !strings.Contains(rec.Body.String(), `"type":"invalid_arguments"`) {
			t.Errorf("%s %s: body %s, want the Scaleway error format", tc.method, tc.path, rec.Body)
		}
	}
	if got, err := read(ctx, n, id, coffer.Latest); err != nil || got != "value" {
		t.Fatalf("after the refused requests: %q, %v", got, err)
	}
	// A clean path still works, and a path outside every dialect gets a
	// plain JSON 400.
	req := httptest.NewRequest("GET", "http://coffer/healthz/../healthz", nil)
	rec := httptest.NewRecorder()
	n.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("unclean path outside the dialects: %d", rec.Code)
	}
}
