// Package envelope is coffer's one crypto boundary: the only package that
// calls an AEAD. Everything sealed in coffer (version data, protection keys,
// API credentials, the root key check, the chunks of export files:
// [StreamKey]) goes through it, so there is one place
// to review, one format to version and one set of fuzz targets.
//
// Version data uses envelope encryption. Every call to [SealData] draws a fresh
// 256-bit data key, seals the data with it (AES-256-GCM) and wraps the data key
// with a key-encryption key (KEK, a protection key version). The ciphertext
// names its KEK, so a reader finds the right key version after any number of
// rotations, and rotating a KEK ([Rewrap]) rewrites the first 81 bytes of
// each version without decrypting or touching the data.
//
// Format 1 of a sealed version, all integers big-endian:
//
//	offset  size  field
//	0       1     format, 1
//	1       16    KEK id (a UUID)
//	17      4     KEK version (> 0)
//	21      60    wrapped data key: nonce(12) | AES-256-GCM(KEK, data key)(32) | tag(16)
//	81      n+28  sealed data:      nonce(12) | AES-256-GCM(data key, data)(n) | tag(16)
//
// The caller's associated data (see [VersionAD]) binds the ciphertext to its
// row: it is authenticated both with the wrapped data key and with the data,
// so a ciphertext copied to another project, secret or revision fails to open
// with [ErrIntegrity]. The wrapped data key also authenticates the header, so
// the format byte and the KEK reference cannot be altered either. The data
// part does not authenticate the header, which is what lets Rewrap change the
// KEK without touching the data; the data key it needs is single-use and only
// reachable through an authenticated wrap.
//
// Nothing here logs, and no error carries key material or plaintext. Inputs
// are untrusted: malformed or truncated ciphertexts return [ErrMalformed],
// never a panic (see the fuzz targets).
package envelope

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"
)

// FormatV1 is the format byte of ciphertexts made by this package.
const FormatV1 byte = 1

// Layout of format 1.
const (
	idSize         = 16
	headerSize     = 1 + idSize + 4
	wrappedKeySize = NonceSize + KeySize + TagSize
	dataOffset     = headerSize + wrappedKeySize
)

// DataOverhead is how much longer than its plaintext a ciphertext made by
// SealData is.
const DataOverhead = dataOffset + Overhead

// Domain-separation labels. The wrapped data key and the sealed data use
// different keys, but labelling them keeps the associated data of one from
// ever being mistaken for the other's should that change.
const (
	labelWrap = "coffer.envelope.v1.data-key\x00"
	labelData = "coffer.envelope.v1.data\x00"
)

// SealData seals plaintext for storage under the KEK version (kekID,
// kekVersion), binding it to ad. kekID must be a UUID in its canonical
// lower-case form and kekVersion must be positive; kek must be that version's
// key. The data key is wiped before SealData returns.
func SealData(kek *Key, kekID string, kekVersion uint32, plaintext, ad []byte) ([]byte, error) {
	header, err := makeHeader(kekID, kekVersion)
	if err != nil {
		return nil, err
	}

	var dk [KeySize]byte
	defer clear(dk[:])
	_, _ = rand.Read(dk[:]) // crypto/rand.Read never fails; it crashes the program instead.
	dataKey, err := NewKey(dk[:])
	if err != nil {
		return nil, err
	}

	out := make([]byte, 0, DataOverhead+len(plaintext))
	out = append(out, header[:]...)
	out = kek.appendSeal(out, dk[:], wrapAD(header[:], ad))
	out = dataKey.appendSeal(out, plaintext, dataAD(ad))
	return out, nil
}

// ParseHeader returns the KEK a ciphertext made by SealData names, so that
// the caller can load it. It only checks the format and the length: the
// ciphertext is not authenticated until it is opened. Returns ErrMalformed.
func ParseHeader(ct []byte) (kekID string, kekVersion uint32, err error) {
	if err := checkLayout(ct); err != nil {
		return "", 0, err
	}
	var id uuid.UUID
	copy(id[:], ct[1:1+idSize])
	return id.String(), binary.BigEndian.Uint32(ct[1+idSize : headerSize]), nil
}

// OpenData opens a ciphertext made by SealData with ad. kek must be the
// version named by its header (see ParseHeader). Returns ErrMalformed, and
// ErrIntegrity when the ciphertext, ad or kek is not the one it was sealed
// with.
func OpenData(kek *Key, ct, ad []byte) ([]byte, error) {
	if err := checkLayout(ct); err != nil {
		return nil, err
	}
	dataKey, err := unwrapDataKey(kek, ct, ad)
	if err != nil {
		return nil, err
	}
	return dataKey.appendOpen(nil, ct[dataOffset:], dataAD(ad))
}

// Rewrap returns ct with its data key re-wrapped by newKEK, the KEK version
// (newID, newVersion); the sealed data is copied unchanged. oldKEK must be the
// version named by ct's header. The result no longer opens with oldKEK.
// Returns ErrMalformed, and ErrIntegrity when ct's data key does not open
// with oldKEK and ad. The data part is not authenticated here: if it was
// tampered with, the rewrapped ciphertext fails to open just as ct would.
func Rewrap(ct []byte, oldKEK, newKEK *Key, newID string, newVersion uint32, ad []byte) ([]byte, error) {
	if err := checkLayout(ct); err != nil {
		return nil, err
	}
	header, err := makeHeader(newID, newVersion)
	if err != nil {
		return nil, err
	}
	dk, err := oldKEK.appendOpen(make([]byte, 0, KeySize), ct[headerSize:dataOffset], wrapAD(ct[:headerSize], ad))
	if err != nil {
		return nil, err
	}
	defer clear(dk)

	out := make([]byte, 0, len(ct))
	out = append(out, header[:]...)
	out = newKEK.appendSeal(out, dk, wrapAD(header[:], ad))
	out = append(out, ct[dataOffset:]...)
	return out, nil
}

// unwrapDataKey opens ct's wrapped data key with kek and returns it as a
// Key; the raw data key is wiped before it returns.
func unwrapDataKey(kek *Key, ct, ad []byte) (*Key, error) {
	var buf [KeySize]byte
	defer clear(buf[:])
	// The wrapped key has a fixed size, so an authentic one is KeySize bytes.
	dk, err := kek.appendOpen(buf[:0], ct[headerSize:dataOffset], wrapAD(ct[:headerSize], ad))
	if err != nil {
		return nil, err
	}
	return NewKey(dk)
}

// checkLayout checks what can be checked without a key: the format byte, a
// positive KEK version and the minimum length.
func checkLayout(ct []byte) error {
	if len(ct) < DataOverhead {
		return fmt.Errorf("%w: %d bytes is shorter than the %d of an empty message", ErrMalformed, len(ct), DataOverhead)
	}
	if ct[0] != FormatV1 {
		return fmt.Errorf("%w: unknown format %d", ErrMalformed, ct[0])
	}
	if binary.BigEndian.Uint32(ct[1+idSize:headerSize]) == 0 {
		return fmt.Errorf("%w: key version 0", ErrMalformed)
	}
	return nil
}

// makeHeader encodes the header naming KEK (id, version).
func makeHeader(id string, version uint32) ([headerSize]byte, error) {
	var h [headerSize]byte
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return h, fmt.Errorf("envelope: key id %q is not a canonical UUID", id)
	}
	if version == 0 {
		return h, fmt.Errorf("envelope: key version must be positive")
	}
	h[0] = FormatV1
	copy(h[1:], u[:])
	binary.BigEndian.PutUint32(h[1+idSize:], version)
	return h, nil
}

// wrapAD is the associated data of a wrapped data key: the label, the header
// (fixed size) and the caller's ad.
func wrapAD(header, ad []byte) []byte {
	b := make([]byte, 0, len(labelWrap)+len(header)+len(ad))
	b = append(b, labelWrap...)
	b = append(b, header...)
	return append(b, ad...)
}

// dataAD is the associated data of the sealed data: the label and the
// caller's ad.
func dataAD(ad []byte) []byte {
	b := make([]byte, 0, len(labelData)+len(ad))
	b = append(b, labelData...)
	return append(b, ad...)
}
