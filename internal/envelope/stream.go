package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"log/slog"

	"github.com/coffer-dev/coffer"
)

// StreamKey seals the chunks of one stream (an export file) with
// AES-256-GCM under counter nonces: chunk i is sealed with the nonce made of
// i as an 88-bit big-endian number and a last-chunk flag byte. A reader that
// opens chunk i with nonce i finds a reordered, dropped or repeated chunk;
// one that opens the chunk at which the stream ends as the last finds a
// stream cut short at a chunk boundary, as the last chunk is the only one
// sealed with the flag.
//
// Counter nonces are safe only because a StreamKey seals one stream: its
// key must be fresh for each (the export file derives it from a random file
// key and a random nonce).
type StreamKey struct {
	aead cipher.AEAD
}

// NewStreamKey returns a StreamKey made from raw, which must be [KeySize]
// bytes. It does not retain raw.
func NewStreamKey(raw []byte) (*StreamKey, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("envelope: key must be %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return &StreamKey{aead: aead}, nil
}

// chunkNonce returns the nonce of chunk counter, with the last-chunk flag.
func chunkNonce(counter uint64, last bool) [NonceSize]byte {
	var n [NonceSize]byte
	binary.BigEndian.PutUint64(n[3:11], counter)
	if last {
		n[11] = 1
	}
	return n
}

// SealChunk appends to dst chunk counter of the stream, sealed: TagSize
// bytes longer than plaintext. dst must not overlap plaintext.
func (k *StreamKey) SealChunk(dst []byte, counter uint64, last bool, plaintext []byte) []byte {
	n := chunkNonce(counter, last)
	return k.aead.Seal(dst, n[:], plaintext, nil)
}

// OpenChunk appends to dst the plaintext of chunk counter, sealed with the
// last-chunk flag last. It returns ErrMalformed for a chunk shorter than a
// tag and ErrIntegrity when authentication fails: a tampered chunk, a chunk
// out of its place, or a last-chunk flag that does not match.
func (k *StreamKey) OpenChunk(dst []byte, counter uint64, last bool, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) < TagSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than a tag", ErrMalformed, len(ciphertext))
	}
	n := chunkNonce(counter, last)
	out, err := k.aead.Open(dst, n[:], ciphertext, nil)
	if err != nil {
		return nil, ErrIntegrity
	}
	return out, nil
}

// String implements fmt.Stringer; a StreamKey never prints its content.
func (*StreamKey) String() string { return coffer.Redacted }

// GoString implements fmt.GoStringer.
func (*StreamKey) GoString() string { return coffer.Redacted }

// Format implements fmt.Formatter so that no verb prints key material.
func (*StreamKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(coffer.Redacted)) }

// LogValue keeps the key out of structured logs.
func (*StreamKey) LogValue() slog.Value { return slog.StringValue(coffer.Redacted) }
