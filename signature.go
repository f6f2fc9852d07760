package coffer

import (
	"context"
	"time"
)

// MaxSignatureSkew is how far the time a request was signed at may be from
// the server's clock: NAVER's API gateway refuses a signature v2 timestamp
// more than five minutes off.
const MaxSignatureSkew = 5 * time.Minute

// SignatureService authenticates requests signed with an API key's secret
// key, such as NAVER's signature v2, instead of carrying it.
type SignatureService interface {
	// AuthenticateSignature returns the caller whose API key accessKey
	// signed message at signedAt: signature is the standard base64 of the
	// HMAC-SHA256 of message keyed with the key's secret key. The dialect
	// builds message from the request; the engine checks the time, the key
	// and the signature, in constant time. Every failure is the same
	// EUNAUTHENTICATED, whatever was wrong.
	AuthenticateSignature(ctx context.Context, accessKey string, message []byte, signature string, signedAt time.Time) (*Caller, error)
}
