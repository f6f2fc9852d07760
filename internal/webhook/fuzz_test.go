package webhook_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/webhook"
)

// FuzzVerify: Verify never panics, and accepts a signature only when it is
// Sign's for that timestamp and body.
func FuzzVerify(f *testing.F) {
	f.Add(vectorSecret, "1700000000", vectorSignature, []byte(vectorBody))
	f.Add("k", "-1", "v1=", []byte{})
	f.Add("k", "99999999999999999999", "v1=zz", []byte("{}"))
	now := time.Unix(vectorTimestamp, 0)
	f.Fuzz(func(t *testing.T, secret, ts, sig string, body []byte) {
		err := webhook.Verify([]byte(secret), ts, sig, body, now, time.Hour)
		if err != nil {
			return
		}
		n, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || strconv.FormatInt(n, 10) != ts || webhook.Sign([]byte(secret), n, body) != sig {
			t.Fatalf("Verify accepted %q %q", ts, sig)
		}
	})
}
