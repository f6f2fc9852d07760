package ncloud

import (
	"net/http"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/apigw"
)

// FuzzParseSignature: the signature headers never panic the parser, and
// what it accepts is one of each header with a timestamp of digits.
func FuzzParseSignature(f *testing.F) {
	f.Add("1700000000000", "SCWAAAAAAAAAAAAAAAAA", "E5s1omdmUOtSnBqsoqGwyho6Cl5Qcisf81w2quL63gQ=")
	f.Add("", "", "")
	f.Add("-1", "x", "y")
	f.Add("99999999999999999999", "x", "y")
	f.Fuzz(func(t *testing.T, ts, ak, sig string) {
		hd := http.Header{}
		for name, v := range map[string]string{headerTimestamp: ts, headerAccessKey: ak, headerSignature: sig} {
			if v != "" {
				hd.Set(name, v)
			}
		}
		sr, found, ok := parseSignature(hd)
		if found != (ts != "" || ak != "" || sig != "") {
			t.Fatalf("found = %v for %q %q %q", found, ts, ak, sig)
		}
		if ok && (sr.timestamp != ts || sr.accessKey != ak || sr.signature != sig || sr.signedAt.UnixMilli() < 0) {
			t.Fatalf("accepted %q %q %q as %+v", ts, ak, sig, sr)
		}
		msg := apigw.Canonical("GET", "/api/v1/secrets", ts, ak)
		if len(msg) != len("GET /api/v1/secrets\n\n")+len(ts)+len(ak) {
			t.Fatalf("canonical length %d", len(msg))
		}
	})
}

// FuzzParseBody: the body parser of POST /secrets never panics, and what
// it accepts decodes to a create request or a wire error, never an
// internal one.
func FuzzParseBody(f *testing.F) {
	f.Add([]byte(`{"secretName":"abc","secretType":"BASIC","autoRotationYN":"N","protectionKeyType":"DEFAULT","secretValue":{"value":"{\"k\":\"v\"}","rotationTargets":["k"]}}`))
	f.Add([]byte(``))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var in createRequest
		if err := parseBody(b, &in); err != nil {
			if code := coffer.ErrorCode(err); code != coffer.EINVALID {
				t.Fatalf("parse error code %s", code)
			}
			return
		}
		if _, err := in.decode(); err != nil && coffer.ErrorCode(err) != coffer.EINVALID {
			t.Fatalf("decode error code %s", coffer.ErrorCode(err))
		}
	})
}
