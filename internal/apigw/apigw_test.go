package apigw

import "testing"

// TestSign checks the signature against one computed independently from
// the documented algorithm (openssl dgst -sha256 -hmac over the canonical
// string, then base64).
func TestSign(t *testing.T) {
	got := string(Canonical("GET", "/api/v1/secrets?pageNo=1", "1700000000000", "AK"))
	if want := "GET /api/v1/secrets?pageNo=1\n1700000000000\nAK"; got != want {
		t.Fatalf("canonical = %q, want %q", got, want)
	}
	if sig := Sign([]byte("SK"), "GET", "/api/v1/secrets?pageNo=1", "1700000000000", "AK"); sig != wantSignature {
		t.Fatalf("signature = %s, want %s", sig, wantSignature)
	}
}

const wantSignature = "PBeIXgwyCPuyLNCkt3Y8L9yCp+R4r5q7dudyolSSOYU="
