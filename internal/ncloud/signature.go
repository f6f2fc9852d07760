package ncloud

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/apigw"
	"github.com/coffer-dev/coffer/internal/auth"
)

// The headers of API Gateway signature v2. NAVER's own Go SDK sends the
// same signature under the -v1 name for most services; it is accepted too.
const (
	headerTimestamp   = apigw.HeaderTimestamp
	headerAccessKey   = apigw.HeaderAccessKey
	headerSignature   = apigw.HeaderSignature
	headerSignatureV1 = "x-ncp-apigw-signature-v1"
)

// signedRequest is what a request carries of its signature.
type signedRequest struct {
	timestamp string // epoch milliseconds, as sent
	signedAt  time.Time
	accessKey string
	signature string
}

// parseSignature extracts the signature headers of a request. found is
// false when it carries none of them; ok is false when it carries some but
// not a well-formed set (one of each, a timestamp of decimal digits).
func parseSignature(hd http.Header) (sr signedRequest, found, ok bool) {
	ts, ak := hd.Values(headerTimestamp), hd.Values(headerAccessKey)
	sig := hd.Values(headerSignature)
	if len(sig) == 0 {
		sig = hd.Values(headerSignatureV1)
	}
	if len(ts) == 0 && len(ak) == 0 && len(sig) == 0 {
		return sr, false, false
	}
	if len(ts) != 1 || len(ak) != 1 || len(sig) != 1 {
		return sr, true, false
	}
	sr = signedRequest{timestamp: ts[0], accessKey: ak[0], signature: sig[0]}
	ms, ok := parseMillis(sr.timestamp)
	if !ok || sr.accessKey == "" || sr.signature == "" {
		return signedRequest{}, true, false
	}
	sr.signedAt = time.UnixMilli(ms)
	return sr, true, true
}

// parseMillis parses a timestamp in epoch milliseconds: 1 to 15 decimal
// digits, no sign.
func parseMillis(s string) (int64, bool) {
	if s == "" || len(s) > 15 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// requestURI is the URI the client signed: the request line's target, as
// received, before the server stripped the mount's prefix.
func requestURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// verify is the auth.Verifier of signature v2.
func (h *Handler) verify(ctx context.Context, r *http.Request) (*coffer.Caller, error) {
	sr, found, ok := parseSignature(r.Header)
	if !found {
		return nil, auth.ErrNoCredential
	}
	if !ok {
		return nil, errUnauthorized
	}
	msg := apigw.Canonical(r.Method, requestURI(r), sr.timestamp, sr.accessKey)
	return h.svc.AuthenticateSignature(ctx, sr.accessKey, msg, sr.signature, sr.signedAt)
}
