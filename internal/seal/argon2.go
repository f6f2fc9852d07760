package seal

import (
	"fmt"

	"golang.org/x/crypto/argon2"
)

// Argon2 holds the costs of Argon2id, coffer's one derivation of a key from
// a passphrase: for the passphrase seal, backup files and export files.
// Whoever stores or sends the costs (a store's meta value, a file's header)
// is not trusted: Check bounds them, so that a crafted value cannot make a
// node or a reader spend unbounded memory or time.
type Argon2 struct {
	// Time is the number of passes over the memory, Memory its size in
	// KiB, Threads the lanes.
	Time    uint32
	Memory  uint32
	Threads uint8
}

// DefaultArgon2 are the costs of new keys: the second recommended option
// of RFC 9106 (3 passes over 64 MiB, 4 lanes).
var DefaultArgon2 = Argon2{Time: 3, Memory: 64 << 10, Threads: 4}

// Bounds of Argon2 costs.
const (
	maxArgon2Time    = 16
	minArgon2Memory  = 8 << 10 // 8 MiB
	maxArgon2Memory  = 1 << 20 // 1 GiB
	maxArgon2Threads = 16
)

// Check refuses costs out of bounds.
func (a Argon2) Check() error {
	if a.Time < 1 || a.Time > maxArgon2Time || a.Memory < minArgon2Memory || a.Memory > maxArgon2Memory ||
		a.Threads < 1 || a.Threads > maxArgon2Threads {
		return fmt.Errorf("seal: Argon2id costs out of bounds (passes %d, want 1 to %d; memory %d KiB, want %d to %d; lanes %d, want 1 to %d)",
			a.Time, maxArgon2Time, a.Memory, minArgon2Memory, maxArgon2Memory, a.Threads, maxArgon2Threads)
	}
	return nil
}

// Key derives a KeySize-byte key from passphrase and salt; the caller wipes
// it once used.
func (a Argon2) Key(passphrase, salt []byte) ([]byte, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	return argon2.IDKey(passphrase, salt, a.Time, a.Memory, a.Threads, KeySize), nil
}
