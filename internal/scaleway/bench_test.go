package scaleway_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// benchNode starts a node and creates one secret with one version; it
// returns the node, the secret's URL and the admin token.
func benchNode(b *testing.B) (*nodetest.Node, string) {
	b.Helper()
	n := nodetest.Start(b)
	base := "/secret-manager/v1beta1/regions/fr-par/secrets"
	body, _ := json.Marshal(map[string]any{"project_id": n.Creds.ProjectID, "name": "bench", "type": "opaque"})
	rec := serve(b, n, "POST", base, body)
	var s struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.ID == "" {
		b.Fatalf("create secret: %d %s", rec.Code, rec.Body)
	}
	return n, base + "/" + s.ID
}

func serve(b *testing.B, n *nodetest.Node, method, url string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("X-Auth-Token", n.Creds.SecretKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	n.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, url, rec.Code, rec.Body)
	}
	return rec
}

var payload = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("s3cr3t!"), 100)) // 700 bytes

// BenchmarkAccessLatest measures GET .../versions/latest/access through the
// whole HTTP handler: authentication, one read transaction, decryption.
func BenchmarkAccessLatest(b *testing.B) {
	n, secret := benchNode(b)
	serve(b, n, "POST", secret+"/versions", []byte(`{"data":"`+payload+`"}`))
	url := secret + "/versions/latest/access"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, n, "GET", url, nil)
		}
	})
}

// BenchmarkCreateVersion measures POST .../versions through the whole HTTP
// handler: decoding, one durable write transaction, sealing. Each secret
// keeps its 10 newest versions, so pruning is part of the cost.
func BenchmarkCreateVersion(b *testing.B) {
	n, secret := benchNode(b)
	body := []byte(`{"data":"` + payload + `","description":"bench"}`)
	url := secret + "/versions"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve(b, n, "POST", url, body)
	}
}
