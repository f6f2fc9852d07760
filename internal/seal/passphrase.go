package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// KDFMeta names the meta value that holds the KDF parameters of a store
// sealed by a passphrase (the caller keeps them in the store: they are not
// secret, and every node sharing the store needs the same).
const KDFMeta = "root_key_kdf"

// MinPassphrase is the shortest passphrase accepted, in bytes.
const MinPassphrase = 12

// maxPassphraseFile bounds what ReadPassphraseFile reads.
const maxPassphraseFile = 4096

// KDF holds the parameters of Argon2id that derive the root key from a
// passphrase. They are stored beside the data, in clear: the salt makes a
// precomputed table useless, the costs make each guess expensive.
type KDF struct {
	// Algorithm is "argon2id".
	Algorithm string `json:"algorithm"`
	// Salt is 16 to 64 random bytes.
	Salt []byte `json:"salt"`
	// Time is the number of passes over the memory, MemoryKiB its size in
	// KiB, Threads the lanes.
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// NewKDF returns the parameters of a new passphrase seal: a fresh 16-byte
// salt, and DefaultArgon2.
func NewKDF() *KDF {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails; it crashes the program instead.
	a := DefaultArgon2
	return &KDF{Algorithm: "argon2id", Salt: salt, Time: a.Time, MemoryKiB: a.Memory, Threads: a.Threads}
}

// Encode returns the stored form of k.
func (k *KDF) Encode() []byte {
	b, _ := json.Marshal(k) // a struct of plain fields always marshals
	return b
}

// DecodeKDF reads stored KDF parameters, refusing what this program did not
// write or could not afford to run.
func DecodeKDF(b []byte) (*KDF, error) {
	var k KDF
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("seal: the stored passphrase parameters (%s) are not readable", KDFMeta)
	}
	if err := k.check(); err != nil {
		return nil, err
	}
	return &k, nil
}

// argon2 returns k's costs.
func (k *KDF) argon2() Argon2 { return Argon2{Time: k.Time, Memory: k.MemoryKiB, Threads: k.Threads} }

// check refuses parameters out of bounds.
func (k *KDF) check() error {
	switch {
	case k.Algorithm != "argon2id":
		return fmt.Errorf("seal: the stored passphrase parameters name the algorithm %q, want argon2id", k.Algorithm)
	case len(k.Salt) < 16 || len(k.Salt) > 64:
		return fmt.Errorf("seal: the stored passphrase parameters have a salt of %d bytes, want 16 to 64", len(k.Salt))
	}
	// Whoever can write the store must not be able to make a node exhaust
	// its memory at start.
	if err := k.argon2().Check(); err != nil {
		return fmt.Errorf("the stored passphrase parameters (%s): %w", KDFMeta, err)
	}
	return nil
}

// rootFromPassphrase derives the root key from passphrase with k.
func rootFromPassphrase(passphrase []byte, k *KDF) (*Root, error) {
	if len(passphrase) < MinPassphrase {
		return nil, fmt.Errorf("seal: the passphrase is too short: want at least %d bytes", MinPassphrase)
	}
	if err := k.check(); err != nil {
		return nil, err
	}
	raw, err := k.argon2().Key(passphrase, k.Salt)
	if err != nil {
		return nil, err
	}
	return newRoot(raw)
}

// ReadPassphraseFile reads a passphrase from the file at path: its content
// without one final line end. The file is refused, as a key file is, if it
// is a link, not a regular file, or open to group or others. The caller
// wipes the passphrase once Load returns.
func ReadPassphraseFile(path string) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, fmt.Errorf("seal: open passphrase file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: passphrase file: %w", err)
	}
	if err := checkFile(path, fi); err != nil {
		return nil, err
	}
	buf := make([]byte, maxPassphraseFile+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		clear(buf)
		return nil, fmt.Errorf("seal: read passphrase file: %w", err)
	}
	if n > maxPassphraseFile {
		clear(buf)
		return nil, fmt.Errorf("seal: passphrase file %s is longer than %d bytes", path, maxPassphraseFile)
	}
	text := buf[:n]
	text = bytes.TrimSuffix(text, []byte("\n"))
	text = bytes.TrimSuffix(text, []byte("\r"))
	out := bytes.Clone(text)
	clear(buf)
	return out, nil
}
