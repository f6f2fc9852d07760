package engine

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ coffer.SignatureService = (*Engine)(nil)

// apiKeyAD is the associated data an API key's secret is sealed with: it
// binds the sealed secret to its access key (see createAPIKey).
func apiKeyAD(accessKey string) []byte {
	return []byte("coffer api key secret\x00" + accessKey)
}

// AuthenticateSignature checks a request signed with an API key's secret
// key (NAVER's signature v2): the time it was signed at is within
// coffer.MaxSignatureSkew of the engine's clock, the access key exists, is
// enabled and has not expired, and signature is the base64 HMAC-SHA256 of
// message under the key's secret, which is opened from its sealed form for
// the check and then kept, opened, for authCacheTTL (authCache: a key
// disabled or deleted on this node is dropped at once, one changed on
// another node within the TTL, as for secret keys), and wiped when
// dropped. The signatures are compared in constant
// time. Every failure returns the same EUNAUTHENTICATED, so that a caller
// never learns which part was wrong.
func (e *Engine) AuthenticateSignature(ctx context.Context, accessKey string, message []byte, signature string, signedAt time.Time) (*coffer.Caller, error) {
	now := e.Now()
	if d := now.Sub(signedAt); d > coffer.MaxSignatureSkew || d < -coffer.MaxSignatureSkew {
		return nil, errBadCredential
	}
	if accessKey == "" || len(accessKey) > 64 || signature == "" || len(signature) > 128 {
		return nil, errBadCredential
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return nil, errBadCredential
	}
	// A key that signed lately is checked from memory (authCache): the
	// same TTL and the same invalidation as the secret keys' cache.
	if ent, ok := e.auth.signer(accessKey, now); ok {
		mac := hmac.New(sha256.New, ent.secret)
		clear(ent.secret)
		mac.Write(message)
		if !hmac.Equal(mac.Sum(nil), got) || (ent.expiresAt != nil && !now.Before(*ent.expiresAt)) {
			return nil, errBadCredential
		}
		return ent.caller, nil
	}
	var (
		c    *coffer.Caller
		kept signerEntry
	)
	err = e.view(ctx, func(tx storage.Tx) error {
		k, err := tx.GetAPIKey(ctx, accessKey)
		if err != nil {
			return err
		}
		if k.Disabled || (k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)) || len(k.SealedSecret) == 0 {
			return errBadCredential
		}
		secret, err := e.keyring.OpenCredential(k.SealedSecret, apiKeyAD(k.AccessKey))
		if err != nil {
			// A sealed secret that does not open is a fault of the
			// store, logged; the caller learns only that it failed.
			e.log.ErrorContext(ctx, "an API key's sealed secret does not open", "access_key", k.AccessKey,
				"request_id", coffer.RequestIDFromContext(ctx))
			return errBadCredential
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(message)
		if !hmac.Equal(mac.Sum(nil), got) {
			clear(secret)
			return errBadCredential
		}
		p, err := tx.GetPrincipal(ctx, k.PrincipalID)
		if err != nil {
			clear(secret)
			return err
		}
		c = &coffer.Caller{Principal: p, AccessKey: k.AccessKey, DefaultProjectID: k.DefaultProjectID}
		kept = signerEntry{caller: c, secret: secret, expiresAt: k.ExpiresAt, checked: now}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) || coffer.ErrorCode(err) == coffer.EUNAUTHENTICATED {
		return nil, errBadCredential
	} else if err != nil {
		return nil, err
	}
	e.auth.putSigner(accessKey, kept)
	return c, nil
}
