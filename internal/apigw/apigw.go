// Package apigw is NAVER Cloud's API Gateway signature v2: the string a
// request's signature covers and the signature itself. It is written once
// for the two sides coffer has of it: the NAVER dialect, which checks
// signed requests, and the NAVER target of key vaults, which signs them.
package apigw

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// The headers of a signed request.
const (
	// HeaderTimestamp is the time of signing, Unix milliseconds.
	HeaderTimestamp = "x-ncp-apigw-timestamp"
	// HeaderAccessKey is the API key's access key.
	HeaderAccessKey = "x-ncp-iam-access-key"
	// HeaderSignature is the signature v2.
	HeaderSignature = "x-ncp-apigw-signature-v2"
)

// Canonical returns the string signature v2 signs: the method, a space,
// the request URI as sent (path and raw query), a line feed, the timestamp
// as sent, a line feed and the access key.
func Canonical(method, requestURI, timestamp, accessKey string) []byte {
	b := make([]byte, 0, len(method)+len(requestURI)+len(timestamp)+len(accessKey)+3)
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, requestURI...)
	b = append(b, '\n')
	b = append(b, timestamp...)
	b = append(b, '\n')
	return append(b, accessKey...)
}

// Sign returns the signature v2 of a request: the standard base64 of the
// HMAC-SHA256, keyed with the secret key, of its canonical string.
func Sign(secretKey []byte, method, requestURI, timestamp, accessKey string) string {
	m := hmac.New(sha256.New, secretKey)
	m.Write(Canonical(method, requestURI, timestamp, accessKey))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
