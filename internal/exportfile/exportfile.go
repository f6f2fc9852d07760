// Package exportfile is the file format of `coffer export` and `coffer
// import`: secrets with all their versions, encrypted to one recipient, as
// a stream that is written and read without holding the file in memory.
//
// A file is a header and a body. The header names the recipient and holds
// the file key (32 random bytes) wrapped for it; the body is a stream of
// frames sealed in chunks under a key derived from the file key. The
// recipient is either
//
//   - an X25519 public key (the export key of the instance that will import
//     the file, `coffer export-key`): the file key is wrapped under a key
//     derived (HKDF-SHA256) from an ephemeral X25519 exchange, as age does;
//   - a passphrase: the file key is wrapped under a key derived from the
//     passphrase with Argon2id, whose salt and costs the header records.
//
// Format 1, all integers big-endian:
//
//	offset  size  field
//	0       12    magic "COFFEREXPORT"
//	12      1     format, 1
//	13      1     recipient kind: 1 X25519, 2 passphrase
//	14      16    nonce (random; salt of the payload key)
//	30      k     X25519: the ephemeral public key (32 bytes)
//	              passphrase: salt (16), Argon2id time (4), memory in KiB (4), threads (1)
//	30+k    60    the wrapped file key: nonce(12) | AES-256-GCM(wrap key, file key)(32) | tag(16)
//
// The wrapped file key is sealed with the bytes before it as associated
// data, so that no header field can be changed without the unwrap failing.
//
// The body is the plaintext stream cut into chunks of ChunkSize bytes, the
// last one shorter or equal (never empty but in an empty stream), each
// sealed on its own with AES-256-GCM under the payload key, HKDF-SHA256 of
// the file key with the header's nonce as salt, with counter nonces and a
// last-chunk flag (envelope.StreamKey): a chunk out of place, a tampered
// chunk and a file cut short, at a chunk boundary or not, all fail to open.
// A sealed chunk is TagSize bytes longer than its plaintext, so a reader
// knows where each ends without a length.
//
// The plaintext stream is a sequence of frames, each a 4-byte length and
// that many bytes of JSON (record.go): a manifest, then each secret
// followed by its versions, then an end frame that counts them. A frame is
// at most MaxFrame bytes.
//
// Every input is untrusted: a malformed header, frame or chunk is an error,
// never a panic, and no error carries key material or plaintext (see the
// fuzz targets).
package exportfile

import (
	"bufio"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/seal"
)

// Layout of format 1.
const (
	magic       = "COFFEREXPORT"
	Format1     = 1
	nonceSize   = 16
	prefixSize  = len(magic) + 2 + nonceSize
	x25519Size  = 32
	saltSize    = 16
	kdfSize     = saltSize + 4 + 4 + 1
	wrappedSize = envelope.Overhead + envelope.KeySize
)

// Recipient kinds.
const (
	KindX25519     byte = 1
	KindPassphrase byte = 2
)

// ChunkSize is the size of a chunk's plaintext (the last one's at most).
const ChunkSize = 64 << 10

// MaxFrame is the largest frame.
const MaxFrame = 1 << 20

// Labels of the keys derived here.
const (
	labelX25519  = "coffer.export.v1.x25519"
	labelPayload = "coffer.export.v1.payload"
	purposeWrap  = "coffer.export.v1.file-key"
)

// Errors of a file that cannot be read. None says anything of the keys or
// the content.
var (
	// ErrFormat means the input is not an export file of a known format.
	ErrFormat = errors.New("exportfile: not a coffer export file, or a format this version does not read")
	// ErrWrongKey means the file key does not unwrap: the file was made for
	// another recipient, with another passphrase, or its header was altered.
	ErrWrongKey = errors.New("exportfile: the file is not encrypted to this key or passphrase, or its header was altered")
	// ErrDamaged means a chunk or a frame fails: the file was altered or
	// cut short.
	ErrDamaged = errors.New("exportfile: the file is damaged or incomplete")
)

// KDF holds the Argon2id costs of a passphrase: coffer's one derivation
// (seal.Argon2), whose bounds a header's costs must lie within.
type KDF = seal.Argon2

// DefaultKDF are the costs new files use.
var DefaultKDF = seal.DefaultArgon2

// Passphrase is the key a passphrase derives for one file: the Argon2id
// output, its salt and costs. Whoever holds it opens the file; it is wiped
// with Wipe.
type Passphrase struct {
	Key  []byte
	Salt []byte
	KDF  KDF
}

// NewPassphrase derives the key of a new file from passphrase, with a
// fresh salt and the costs k.
func NewPassphrase(passphrase []byte, k KDF) (*Passphrase, error) {
	salt := make([]byte, saltSize)
	_, _ = rand.Read(salt)
	return DerivePassphrase(passphrase, salt, k)
}

// DerivePassphrase derives the key of passphrase with salt and costs k
// (those of a file's header, Header.Salt and Header.KDF).
func DerivePassphrase(passphrase, salt []byte, k KDF) (*Passphrase, error) {
	if len(salt) != saltSize {
		return nil, fmt.Errorf("exportfile: the salt must be %d bytes", saltSize)
	}
	key, err := k.Key(passphrase, salt)
	if err != nil {
		return nil, fmt.Errorf("exportfile: %w", err)
	}
	return &Passphrase{Key: key, Salt: append([]byte(nil), salt...), KDF: k}, nil
}

// Wipe clears the key.
func (p *Passphrase) Wipe() {
	if p != nil {
		clear(p.Key)
	}
}

// Header is a file's parsed header.
type Header struct {
	Kind byte
	// Ephemeral is the ephemeral X25519 public key (KindX25519).
	Ephemeral []byte
	// Salt and KDF are the passphrase's (KindPassphrase).
	Salt []byte
	KDF  KDF

	nonce   []byte
	prefix  []byte // the bytes before the wrapped key
	wrapped []byte
}

// Writer writes an export file: NewX25519Writer or NewPassphraseWriter
// write its header, WriteFrame its frames, Close its last chunk. It holds
// at most one chunk.
type Writer struct {
	w       io.Writer
	key     *envelope.StreamKey
	buf     []byte
	out     []byte
	counter uint64
	err     error
}

// NewX25519Writer starts a file encrypted to the X25519 public key pub.
func NewX25519Writer(w io.Writer, pub []byte) (*Writer, error) {
	recipient, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("exportfile: an X25519 public key is 32 bytes: %w", err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	shared, err := eph.ECDH(recipient)
	if err != nil {
		return nil, fmt.Errorf("exportfile: the X25519 public key is not usable: %w", err)
	}
	defer clear(shared)
	eb := eph.PublicKey().Bytes()
	wrapKey, err := x25519WrapKey(shared, eb, pub)
	if err != nil {
		return nil, err
	}
	defer clear(wrapKey)
	return newWriter(w, KindX25519, eb, wrapKey)
}

// NewPassphraseWriter starts a file encrypted to a passphrase's key.
func NewPassphraseWriter(w io.Writer, p *Passphrase) (*Writer, error) {
	if p.KDF.Check() != nil || len(p.Salt) != saltSize || len(p.Key) != envelope.KeySize {
		return nil, errors.New("exportfile: a passphrase key is 32 bytes with a 16-byte salt and costs in bounds")
	}
	params := make([]byte, 0, kdfSize)
	params = append(params, p.Salt...)
	params = binary.BigEndian.AppendUint32(params, p.KDF.Time)
	params = binary.BigEndian.AppendUint32(params, p.KDF.Memory)
	params = append(params, p.KDF.Threads)
	return newWriter(w, KindPassphrase, params, p.Key)
}

func x25519WrapKey(shared, ephemeral, recipient []byte) ([]byte, error) {
	salt := make([]byte, 0, 2*x25519Size)
	salt = append(append(salt, ephemeral...), recipient...)
	return hkdf.Key(sha256.New, shared, salt, labelX25519, envelope.KeySize)
}

func payloadKey(fileKey, nonce []byte) (*envelope.StreamKey, error) {
	raw, err := hkdf.Key(sha256.New, fileKey, nonce, labelPayload, envelope.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	return envelope.NewStreamKey(raw)
}

func newWriter(w io.Writer, kind byte, params, wrapKey []byte) (*Writer, error) {
	fileKey := make([]byte, envelope.KeySize)
	defer clear(fileKey)
	_, _ = rand.Read(fileKey)
	nonce := make([]byte, nonceSize)
	_, _ = rand.Read(nonce)

	header := make([]byte, 0, prefixSize+len(params)+wrappedSize)
	header = append(header, magic...)
	header = append(header, Format1, kind)
	header = append(header, nonce...)
	header = append(header, params...)
	wk, err := envelope.NewKey(wrapKey)
	if err != nil {
		return nil, err
	}
	header = append(header, wk.Seal(fileKey, envelope.AD(purposeWrap, header))...)
	key, err := payloadKey(fileKey, nonce)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(header); err != nil {
		return nil, err
	}
	return &Writer{w: w, key: key, buf: make([]byte, 0, ChunkSize), out: make([]byte, 0, ChunkSize+envelope.TagSize)}, nil
}

// Write adds p to the plaintext stream. A full chunk is sealed and written
// once more data follows it, so that the last chunk is the one Close seals.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == ChunkSize {
			if err := w.flush(false); err != nil {
				return n, err
			}
		}
		k := copy(w.buf[len(w.buf):ChunkSize], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n = p[k:], n+k
	}
	return n, nil
}

func (w *Writer) flush(last bool) error {
	w.out = w.key.SealChunk(w.out[:0], w.counter, last, w.buf)
	clear(w.buf)
	w.buf = w.buf[:0]
	w.counter++
	if _, err := w.w.Write(w.out); err != nil {
		w.err = err
		return err
	}
	return nil
}

// WriteFrame writes one frame.
func (w *Writer) WriteFrame(b []byte) error {
	if len(b) > MaxFrame {
		return fmt.Errorf("exportfile: a frame of %d bytes is larger than %d", len(b), MaxFrame)
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// Close seals and writes the last chunk. It does not close the underlying
// writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	err := w.flush(true)
	if err == nil {
		w.err = errors.New("exportfile: the writer is closed")
	}
	return err
}

// ReadHeader reads a file's header from r.
func ReadHeader(r io.Reader) (*Header, error) {
	prefix := make([]byte, prefixSize, prefixSize+kdfSize+wrappedSize)
	if _, err := io.ReadFull(r, prefix); err != nil {
		return nil, ErrFormat
	}
	if string(prefix[:len(magic)]) != magic || prefix[len(magic)] != Format1 {
		return nil, ErrFormat
	}
	h := &Header{Kind: prefix[len(magic)+1]}
	var k int
	switch h.Kind {
	case KindX25519:
		k = x25519Size
	case KindPassphrase:
		k = kdfSize
	default:
		return nil, ErrFormat
	}
	rest := make([]byte, k+wrappedSize)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, ErrFormat
	}
	h.prefix = append(prefix, rest[:k]...)
	h.nonce = h.prefix[len(magic)+2 : prefixSize]
	params := rest[:k]
	h.wrapped = rest[k:]
	if h.Kind == KindX25519 {
		h.Ephemeral = params
	} else {
		h.Salt = params[:saltSize]
		h.KDF = KDF{
			Time:    binary.BigEndian.Uint32(params[saltSize:]),
			Memory:  binary.BigEndian.Uint32(params[saltSize+4:]),
			Threads: params[saltSize+8],
		}
		if h.KDF.Check() != nil {
			return nil, ErrFormat
		}
	}
	return h, nil
}

// OpenX25519 unwraps the file key with the X25519 private key priv and
// returns the reader of the body that follows the header in r.
func (h *Header) OpenX25519(r io.Reader, priv *ecdh.PrivateKey) (*Reader, error) {
	if h.Kind != KindX25519 {
		return nil, fmt.Errorf("exportfile: the file is encrypted to a passphrase, not to an X25519 key")
	}
	eph, err := ecdh.X25519().NewPublicKey(h.Ephemeral)
	if err != nil {
		return nil, ErrWrongKey
	}
	shared, err := priv.ECDH(eph)
	if err != nil {
		return nil, ErrWrongKey
	}
	defer clear(shared)
	wrapKey, err := x25519WrapKey(shared, h.Ephemeral, priv.PublicKey().Bytes())
	if err != nil {
		return nil, err
	}
	defer clear(wrapKey)
	return h.open(r, wrapKey)
}

// OpenPassphrase unwraps the file key with a passphrase's key (derived
// with the header's Salt and KDF) and returns the reader of the body that
// follows the header in r.
func (h *Header) OpenPassphrase(r io.Reader, key []byte) (*Reader, error) {
	if h.Kind != KindPassphrase {
		return nil, fmt.Errorf("exportfile: the file is encrypted to an X25519 key, not to a passphrase")
	}
	if len(key) != envelope.KeySize {
		return nil, ErrWrongKey
	}
	return h.open(r, key)
}

func (h *Header) open(r io.Reader, wrapKey []byte) (*Reader, error) {
	wk, err := envelope.NewKey(wrapKey)
	if err != nil {
		return nil, err
	}
	fileKey, err := wk.Open(h.wrapped, envelope.AD(purposeWrap, h.prefix))
	if err != nil {
		return nil, ErrWrongKey
	}
	defer clear(fileKey)
	key, err := payloadKey(fileKey, h.nonce)
	if err != nil {
		return nil, err
	}
	return &Reader{
		r:   bufio.NewReaderSize(r, ChunkSize+envelope.TagSize+1),
		key: key,
		in:  make([]byte, ChunkSize+envelope.TagSize),
		buf: make([]byte, 0, ChunkSize),
	}, nil
}

// Reader reads the plaintext stream of a file's body. Its Read returns
// ErrDamaged for a chunk that fails, and io.EOF only after the last chunk.
type Reader struct {
	r       *bufio.Reader
	key     *envelope.StreamKey
	in      []byte
	buf     []byte // the current chunk's plaintext
	pos     int
	counter uint64
	last    bool
	err     error
}

// Read reads the plaintext stream.
func (r *Reader) Read(p []byte) (int, error) {
	for r.pos == len(r.buf) {
		if r.err != nil {
			return 0, r.err
		}
		if r.last {
			r.err = io.EOF
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.buf[r.pos:])
	r.pos += n
	return n, nil
}

// next reads and opens the next chunk.
func (r *Reader) next() error {
	n, err := io.ReadFull(r.r, r.in)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		r.last = true
	case err != nil:
		return err
	default:
		if _, err := r.r.Peek(1); err == io.EOF {
			r.last = true
		} else if err != nil {
			return err
		}
	}
	if n < envelope.TagSize {
		return ErrDamaged
	}
	clear(r.buf)
	out, err := r.key.OpenChunk(r.buf[:0], r.counter, r.last, r.in[:n])
	if err != nil {
		return ErrDamaged
	}
	if r.last && len(out) == 0 && r.counter > 0 {
		return ErrDamaged
	}
	r.buf, r.pos = out, 0
	r.counter++
	return nil
}

// ReadFrame returns the next frame, io.EOF at the end of a stream that
// ends between frames, ErrDamaged for one that ends inside a frame or
// holds a frame larger than MaxFrame. The frame's bytes are the caller's;
// it wipes them when they hold plaintext.
func (r *Reader) ReadFrame() ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err == io.EOF {
		return nil, io.EOF
	} else if err == io.ErrUnexpectedEOF {
		return nil, ErrDamaged
	} else if err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > MaxFrame {
		return nil, ErrDamaged
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		clear(b)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, ErrDamaged
		}
		return nil, err
	}
	return b, nil
}

// Close wipes the chunk the reader holds.
func (r *Reader) Close() {
	clear(r.buf[:cap(r.buf)])
	clear(r.in)
}

// publicKeyPrefix starts the text form of an X25519 export key.
const publicKeyPrefix = "x25519:"

// FormatPublicKey returns the text form of an X25519 public key:
// "x25519:" and the key in unpadded base64url.
func FormatPublicKey(pub []byte) string {
	return publicKeyPrefix + base64.RawURLEncoding.EncodeToString(pub)
}

// ParsePublicKey reads what FormatPublicKey writes.
func ParsePublicKey(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), publicKeyPrefix)
	if !ok {
		return nil, errors.New("exportfile: an export key starts with " + publicKeyPrefix + " and the key")
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != x25519Size {
		return nil, errors.New("exportfile: an export key is " + publicKeyPrefix + " and 32 bytes in unpadded base64url")
	}
	if _, err := ecdh.X25519().NewPublicKey(b); err != nil {
		return nil, errors.New("exportfile: not an X25519 public key")
	}
	return b, nil
}
