package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"

	"github.com/coffer-dev/coffer"
)

// Sizes of keys and of what AES-256-GCM adds to a message.
const (
	// KeySize is the size of every key: root key, protection key (KEK)
	// version and data key alike.
	KeySize = 32
	// NonceSize is the size of the random nonce Seal puts in front of a
	// message.
	NonceSize = 12
	// TagSize is the size of the GCM authentication tag.
	TagSize = 16
	// Overhead is how much longer than its plaintext a message sealed by
	// [Key.Seal] is.
	Overhead = NonceSize + TagSize
)

// Errors returned when a ciphertext does not open. Both say nothing of the
// key or the plaintext, so they are safe to log.
var (
	// ErrIntegrity means authentication failed: the ciphertext, its
	// associated data or the key is not the one it was sealed with. Tampered
	// data, a ciphertext copied to another row and a wrong key all look alike,
	// by design.
	ErrIntegrity = errors.New("envelope: message authentication failed")
	// ErrMalformed means the ciphertext cannot be a sealed message at all:
	// too short, or an unknown format.
	ErrMalformed = errors.New("envelope: malformed ciphertext")
)

// Key is an AES-256-GCM key. It is immutable and safe for concurrent use.
// It never prints its content.
//
// A Key does not keep the bytes it was made from; its owner wipes them. The
// AES key schedule lives inside crypto/aes, which offers no way to erase it:
// dropping every reference to the Key is the most Go allows.
type Key struct {
	aead cipher.AEAD
}

// NewKey returns a Key made from raw, which must be [KeySize] bytes. The Key
// does not retain raw: the caller should clear it once NewKey returns.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("envelope: key must be %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return &Key{aead: aead}, nil
}

// Seal encrypts and authenticates plaintext and authenticates ad. The result
// is a fresh random 96-bit nonce, then the ciphertext and its tag:
// [Overhead] bytes longer than plaintext. Two seals of one plaintext differ.
//
// Random nonces bound how much one key may seal: stay well below 2^32
// messages per key (NIST SP 800-38D). Data keys seal once; protection keys
// are rotated long before.
func (k *Key) Seal(plaintext, ad []byte) []byte {
	return k.appendSeal(make([]byte, 0, len(plaintext)+Overhead), plaintext, ad)
}

// Open authenticates and decrypts a message made by Seal with the same key
// and ad. It returns ErrMalformed for a message too short to be one, and
// ErrIntegrity when authentication fails.
func (k *Key) Open(ciphertext, ad []byte) ([]byte, error) {
	return k.appendOpen(nil, ciphertext, ad)
}

// appendSeal appends the sealed message to dst. dst must not overlap
// plaintext or ad.
func (k *Key) appendSeal(dst, plaintext, ad []byte) []byte {
	return k.aead.Seal(dst, nil, plaintext, ad)
}

// appendOpen appends the opened message to dst. dst must not overlap
// ciphertext or ad.
func (k *Key) appendOpen(dst, ciphertext, ad []byte) ([]byte, error) {
	if len(ciphertext) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes is shorter than nonce and tag", ErrMalformed, len(ciphertext))
	}
	out, err := k.aead.Open(dst, nil, ciphertext, ad)
	if err != nil {
		return nil, ErrIntegrity
	}
	return out, nil
}

// String implements fmt.Stringer; a Key never prints its content.
func (*Key) String() string { return coffer.Redacted }

// GoString implements fmt.GoStringer.
func (*Key) GoString() string { return coffer.Redacted }

// Format implements fmt.Formatter so that no verb prints key material.
func (*Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(coffer.Redacted)) }

// LogValue keeps the key out of structured logs.
func (*Key) LogValue() slog.Value { return slog.StringValue(coffer.Redacted) }
