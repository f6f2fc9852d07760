// Package backup holds the two formats of coffer's backups: the dump, a
// logical copy of every row of a store as it is stored (dump.go), and the
// backup file, that dump encrypted and authenticated in chunks under a key
// derived from a passphrase or from the root key (this file).
//
// A dump holds ciphertexts only: version data, wrapped protection keys and
// sealed credentials are copied as the store keeps them, so a dump is no
// more secret than the database. The file's encryption is a second layer,
// for a copy kept away from the node: without the passphrase it reveals
// nothing of the store, not even the names of its secrets and projects
// (which the store keeps in the clear).
//
// A backup file, all integers big-endian:
//
//	offset  size  field
//	0       8     magic "COFFERBK"
//	8       1     format, 1
//	9       1     key: 1 Argon2id of a passphrase, 2 a random key wrapped by the root key
//	10      4     Argon2id time (passes); 0 with the root key
//	14      4     Argon2id memory in KiB; 0 with the root key
//	18      1     Argon2id threads; 0 with the root key
//	19      16    salt (of Argon2id; random with the root key)
//	35      4     chunk size: the largest plaintext of a chunk
//	39      60    with the root key only: the file's key wrapped by the root key (seal.Root.Wrap),
//	              its associated data labelWrap and the 39 bytes before it
//	39|99   28    key check: AES-256-GCM of nothing, its associated data labelCheck and the bytes before it
//	67|127        chunks
//
// A chunk is a 4-byte length n (at most the chunk size plus 28), then n
// bytes: nonce(12) | AES-256-GCM(key, plaintext) | tag(16), sealed with the
// associated data labelChunk | SHA-256(header) | index (8 bytes) | final
// (1 byte). The index and the final flag make a reordered, repeated,
// dropped or truncated chunk fail to open; the header's hash binds every
// chunk to the header, so no field of it can be changed either. The last
// chunk, and only it, is final: a file that ends before a final chunk, or
// goes on after one, is refused. The key check tells a wrong passphrase (or
// root key) from a damaged file before anything is decrypted.
//
// A passphrase key costs an Argon2id derivation (64 MiB, 3 passes): a
// fraction of a second per guess on purpose. Reading a file, the
// parameters are bounded, so a crafted header cannot make the reader
// allocate without limit. A file under the root key is as safe as the root
// key, and restores only where it is given: it suits a scheduled backup on
// the node's own host, a passphrase a copy kept elsewhere.
package backup

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/seal"
)

// Keys of a backup file.
const (
	KDFPassphrase byte = 1 // Argon2id of a passphrase
	KDFRootKey    byte = 2 // a random key wrapped by the root key
)

// Layout of format 1.
const (
	magic       = "COFFERBK"
	formatV1    = 1
	saltSize    = 16
	fixedSize   = 8 + 1 + 1 + 4 + 4 + 1 + saltSize + 4 // before the key check
	checkSize   = envelope.Overhead
	wrappedSize = envelope.KeySize + envelope.Overhead
	lengthSize  = 4
	indexSize   = 8
	labelChunk  = "coffer.backup.v1.chunk\x00"
	labelCheck  = "coffer.backup.v1.check\x00"
	labelWrap   = "coffer.backup.v1.file-key\x00"
)

// ChunkSize is the plaintext size of the chunks a Writer seals.
const ChunkSize = 64 << 10

// Bounds a reader accepts, and the passphrase's. The passphrase key's
// Argon2id costs are seal.DefaultArgon2, bounded by seal.Argon2.Check.
const (
	maxChunkSize    = 4 << 20
	minPassphrase   = 12
	maxPassphrase   = 4096
	derivedKeyBytes = envelope.KeySize
)

// Errors of reading a backup file. None says anything of the key.
var (
	// ErrWrongKey means the passphrase, or the root key, is not the one
	// the file was made with (or its header is damaged).
	ErrWrongKey = errors.New("backup: wrong passphrase or key (or a damaged header): nothing was read")
	// ErrCorrupt means the file is damaged, truncated or altered.
	ErrCorrupt = errors.New("backup: the file is damaged, truncated or altered")
	// ErrNotBackup means the file is not a coffer backup, or of a format
	// this program does not read.
	ErrNotBackup = errors.New("backup: not a coffer backup file, or of an unknown format")
)

// Secret is the key material of a backup file: a passphrase, or the root
// key. It never prints its content.
type Secret struct {
	kdf  byte
	data []byte
	root KeyWrapper
	// keys caches the keys derived from a passphrase by header, so that
	// reading one file again (a restore reads it twice) derives once.
	keys *keyCache
}

type keyCache struct {
	mu sync.Mutex
	m  map[string]*envelope.Key
}

// KeyWrapper wraps and unwraps a key with the root key: a *seal.Root.
type KeyWrapper interface {
	Wrap(plaintext, ad []byte) ([]byte, error)
	Unwrap(ciphertext, ad []byte) ([]byte, error)
}

// Passphrase returns the Secret of a passphrase, which must be 12 to 4096
// bytes long.
func Passphrase(p []byte) (Secret, error) {
	if len(p) < minPassphrase || len(p) > maxPassphrase {
		return Secret{}, fmt.Errorf("backup: a passphrase must be %d to %d bytes long", minPassphrase, maxPassphrase)
	}
	return Secret{kdf: KDFPassphrase, data: bytes.Clone(p), keys: &keyCache{m: map[string]*envelope.Key{}}}, nil
}

// RootKey returns the Secret of the root key: a file's key is random, and
// stored wrapped by root.
func RootKey(root KeyWrapper) Secret { return Secret{kdf: KDFRootKey, root: root} }

// String implements fmt.Stringer; a Secret never prints its content.
func (Secret) String() string { return "[REDACTED]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return "[REDACTED]" }

// Wipe overwrites the secret and forgets the keys derived from it.
func (s Secret) Wipe() {
	clear(s.data)
	if s.keys != nil {
		s.keys.mu.Lock()
		clear(s.keys.m)
		s.keys.mu.Unlock()
	}
}

// header is the decoded fixed part of a file's header.
type header struct {
	kdf       byte
	time, mem uint32
	threads   uint8
	salt      [saltSize]byte
	chunkSize uint32
}

func (h *header) marshal() []byte {
	b := make([]byte, 0, fixedSize)
	b = append(b, magic...)
	b = append(b, formatV1, h.kdf)
	b = binary.BigEndian.AppendUint32(b, h.time)
	b = binary.BigEndian.AppendUint32(b, h.mem)
	b = append(b, h.threads)
	b = append(b, h.salt[:]...)
	b = binary.BigEndian.AppendUint32(b, h.chunkSize)
	return b
}

// parseHeader decodes and bounds the fixed part of a header.
func parseHeader(b []byte) (*header, error) {
	if len(b) < fixedSize || string(b[:8]) != magic || b[8] != formatV1 {
		return nil, ErrNotBackup
	}
	h := &header{kdf: b[9], time: binary.BigEndian.Uint32(b[10:]), mem: binary.BigEndian.Uint32(b[14:]), threads: b[18]}
	copy(h.salt[:], b[19:19+saltSize])
	h.chunkSize = binary.BigEndian.Uint32(b[19+saltSize:])
	switch h.kdf {
	case KDFPassphrase:
		if err := h.argon2().Check(); err != nil {
			return nil, fmt.Errorf("%w: Argon2id parameters out of bounds", ErrCorrupt)
		}
	case KDFRootKey:
		if h.time != 0 || h.mem != 0 || h.threads != 0 {
			return nil, fmt.Errorf("%w: a root key file has no Argon2id parameters", ErrCorrupt)
		}
	default:
		return nil, fmt.Errorf("%w: unknown key derivation %d", ErrNotBackup, h.kdf)
	}
	if h.chunkSize < 1 || h.chunkSize > maxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d out of bounds", ErrCorrupt, h.chunkSize)
	}
	return h, nil
}

// argon2 returns the Argon2id costs of h.
func (h *header) argon2() seal.Argon2 {
	return seal.Argon2{Time: h.time, Memory: h.mem, Threads: h.threads}
}

// passphraseKey derives the file's key from a passphrase under h.
func passphraseKey(s Secret, h *header) (*envelope.Key, error) {
	id := string(h.marshal())
	if s.keys != nil {
		s.keys.mu.Lock()
		k := s.keys.m[id]
		s.keys.mu.Unlock()
		if k != nil {
			return k, nil
		}
	}
	raw, err := h.argon2().Key(s.data, h.salt[:])
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	k, err := envelope.NewKey(raw)
	if err == nil && s.keys != nil {
		s.keys.mu.Lock()
		s.keys.m[id] = k
		s.keys.mu.Unlock()
	}
	return k, err
}

// checkKind fails unless the secret is of the file's kind.
func checkKind(s Secret, h *header) error {
	switch {
	case s.kdf == h.kdf:
		return nil
	case h.kdf == KDFRootKey:
		return fmt.Errorf("%w: the file was encrypted under the root key, not a passphrase", ErrWrongKey)
	}
	return fmt.Errorf("%w: the file was encrypted under a passphrase, not the root key", ErrWrongKey)
}

func wrapAD(fixed []byte) []byte { return append([]byte(labelWrap), fixed...) }

// Writer encrypts a stream into a backup file. Close writes the final
// chunk: a file whose Writer was not closed is refused by Reader.
type Writer struct {
	w       io.Writer
	key     *envelope.Key
	adBase  []byte // labelChunk | SHA-256(header)
	buf     []byte
	index   uint64
	err     error
	written int64
}

// NewWriter writes the header of a backup file encrypted under s to w, and
// returns the Writer of its content.
func NewWriter(w io.Writer, s Secret) (*Writer, error) {
	h := &header{kdf: s.kdf, chunkSize: ChunkSize}
	switch s.kdf {
	case KDFPassphrase:
		a := seal.DefaultArgon2
		h.time, h.mem, h.threads = a.Time, a.Memory, a.Threads
	case KDFRootKey:
	default:
		return nil, errors.New("backup: no passphrase or key")
	}
	_, _ = rand.Read(h.salt[:])
	hdr := h.marshal()
	var key *envelope.Key
	var err error
	if s.kdf == KDFPassphrase {
		key, err = passphraseKey(s, h)
	} else {
		var raw [envelope.KeySize]byte
		defer clear(raw[:])
		_, _ = rand.Read(raw[:])
		wrapped, werr := s.root.Wrap(raw[:], wrapAD(hdr))
		if werr != nil {
			return nil, fmt.Errorf("backup: wrap the file's key: %w", werr)
		}
		hdr = append(hdr, wrapped...)
		key, err = envelope.NewKey(raw[:])
	}
	if err != nil {
		return nil, err
	}
	hdr = append(hdr, key.Seal(nil, checkAD(hdr))...)
	if _, err := w.Write(hdr); err != nil {
		return nil, err
	}
	return &Writer{w: w, key: key, adBase: chunkADBase(hdr), buf: make([]byte, 0, ChunkSize), written: int64(len(hdr))}, nil
}

func checkAD(before []byte) []byte { return append([]byte(labelCheck), before...) }

func chunkADBase(hdr []byte) []byte {
	sum := sha256.Sum256(hdr)
	return append([]byte(labelChunk), sum[:]...)
}

func chunkAD(base []byte, index uint64, final bool) []byte {
	ad := make([]byte, 0, len(base)+indexSize+1)
	ad = append(ad, base...)
	ad = binary.BigEndian.AppendUint64(ad, index)
	if final {
		return append(ad, 1)
	}
	return append(ad, 0)
}

// Write encrypts p. A chunk is written each time ChunkSize bytes are held.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == ChunkSize {
			// Only now is it known that this chunk is not the last.
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

func (w *Writer) flush(final bool) error {
	sealed := w.key.Seal(w.buf, chunkAD(w.adBase, w.index, final))
	clear(w.buf)
	w.buf = w.buf[:0]
	var l [lengthSize]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(sealed)))
	if _, err := w.w.Write(l[:]); err != nil {
		w.err = err
		return err
	}
	if _, err := w.w.Write(sealed); err != nil {
		w.err = err
		return err
	}
	w.index++
	w.written += int64(lengthSize + len(sealed))
	return nil
}

// Close writes the final chunk. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.flush(true); err != nil {
		return err
	}
	w.err = errors.New("backup: write to a closed Writer")
	return nil
}

// Size is how many bytes of the file have been written.
func (w *Writer) Size() int64 { return w.written }

// Reader decrypts a backup file. It returns io.EOF only after the final
// chunk, and only when nothing follows it: a truncated or extended file
// ends in ErrCorrupt.
type Reader struct {
	r         io.Reader
	key       *envelope.Key
	adBase    []byte
	chunkSize uint32
	buf       []byte // plaintext not yet read
	sealed    []byte
	index     uint64
	done      bool
	err       error
}

// NewReader reads and checks the header of a backup file, derives its key
// from s and checks it. Returns ErrNotBackup, ErrWrongKey, ErrCorrupt.
func NewReader(r io.Reader, s Secret) (*Reader, error) {
	hdr := make([]byte, fixedSize, fixedSize+wrappedSize+checkSize)
	if err := readHeader(r, hdr); err != nil {
		return nil, err
	}
	h, err := parseHeader(hdr)
	if err != nil {
		return nil, err
	}
	if err := checkKind(s, h); err != nil {
		return nil, err
	}
	var key *envelope.Key
	if h.kdf == KDFPassphrase {
		if key, err = passphraseKey(s, h); err != nil {
			return nil, err
		}
	} else {
		hdr = hdr[:fixedSize+wrappedSize]
		if err := readHeader(r, hdr[fixedSize:]); err != nil {
			return nil, err
		}
		raw, err := s.root.Unwrap(hdr[fixedSize:], wrapAD(hdr[:fixedSize]))
		if err != nil {
			return nil, ErrWrongKey
		}
		key, err = envelope.NewKey(raw)
		clear(raw)
		if err != nil {
			return nil, ErrWrongKey
		}
	}
	n := len(hdr)
	hdr = hdr[:n+checkSize]
	if err := readHeader(r, hdr[n:]); err != nil {
		return nil, err
	}
	if _, err := key.Open(hdr[n:], checkAD(hdr[:n])); err != nil {
		return nil, ErrWrongKey
	}
	return &Reader{r: r, key: key, adBase: chunkADBase(hdr), chunkSize: h.chunkSize}, nil
}

// readHeader reads a part of the header; a file too short to hold it is
// no backup.
func readHeader(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrNotBackup
		}
		return err
	}
	return nil
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			r.err = r.checkEnd()
			continue
		}
		if err := r.next(); err != nil {
			r.err = err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// next reads and opens one chunk.
func (r *Reader) next() error {
	var l [lengthSize]byte
	if _, err := io.ReadFull(r.r, l[:]); err != nil {
		return r.readErr(err, "before its final chunk")
	}
	n := binary.BigEndian.Uint32(l[:])
	if n < envelope.Overhead || n > r.chunkSize+envelope.Overhead {
		return fmt.Errorf("%w: chunk %d has a length of %d", ErrCorrupt, r.index, n)
	}
	if cap(r.sealed) < int(n) {
		r.sealed = make([]byte, n)
	}
	r.sealed = r.sealed[:n]
	if _, err := io.ReadFull(r.r, r.sealed); err != nil {
		return r.readErr(err, "inside a chunk")
	}
	// A chunk is final or not: try the flag it claims by its place, then
	// the other, so that a truncation at a chunk's end is told apart.
	for _, final := range []bool{false, true} {
		pt, err := r.key.Open(r.sealed, chunkAD(r.adBase, r.index, final))
		if err != nil {
			continue
		}
		r.buf, r.done = pt, final
		r.index++
		return nil
	}
	return fmt.Errorf("%w: chunk %d does not authenticate", ErrCorrupt, r.index)
}

// checkEnd makes sure nothing follows the final chunk.
func (r *Reader) checkEnd() error {
	var b [1]byte
	n, err := io.ReadFull(r.r, b[:])
	if n > 0 {
		return fmt.Errorf("%w: data after the final chunk", ErrCorrupt)
	}
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return err
}

func (r *Reader) readErr(err error, where string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the file ends %s", ErrCorrupt, where)
	}
	return err
}
