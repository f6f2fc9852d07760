package ncloud_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMountsCoexist: through the full node, NAVER's /api/v1 and OKMS's
// /api/{okmsId}/v2 (and its Vault API at /api/{okmsId}/v1) each answer at
// their paths, and a path that fits both shapes is NAVER's.
func TestMountsCoexist(t *testing.T) {
	n, c, _ := start(t)
	c.ok(http.MethodGet, "/api/v1/secrets", "", nil)
	c.regional().ok(http.MethodGet, "/api/v1/secrets", "", nil)

	bearer := func(p string) response {
		req, err := http.NewRequest(http.MethodGet, n.URL+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+n.Creds.SecretKey)
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{Status: res.StatusCode, Header: res.Header, Body: b}
	}
	if r := bearer("/api/" + n.Creds.ProjectID + "/v2/secret"); r.Status != http.StatusOK || !strings.HasPrefix(string(r.Body), "[") {
		t.Errorf("OKMS list: %d %s", r.Status, r.Body)
	}
	if r := bearer("/api/" + n.Creds.ProjectID + "/v1/secret/metadata/?list=true"); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `"errors"`) {
		t.Errorf("OKMS's Vault API: %d %s", r.Status, r.Body)
	}
	// A bearer token is not a NAVER credential: /api/v1/v2/secret is NAVER's.
	checkError(t, "bearer on /api/v1/v2/secret", bearer("/api/v1/v2/secret"), http.StatusUnauthorized, "UNAUTHORIZED")
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodGet, "/api/v1/v2/secret", "")
}
