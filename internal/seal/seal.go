// Package seal protects coffer's root key: the 32-byte key that wraps every
// protection key, and through them every secret. Whoever holds the root key
// and a copy of the database holds the secrets; whoever loses the root key
// loses them. This package decides where the root key comes from and makes
// sure it is not lying around with loose permissions.
//
// Three sources: a passphrase when one is given, else the first of:
//
//   - COFFER_ROOT_KEY, its value passed in [Config.EnvKey] (the package never
//     reads the environment itself): the standard base64 encoding, with
//     padding, of 32 random bytes. This is how production keeps the key away
//     from the data: a secret store, a systemd credential, a Kubernetes
//     secret.
//   - a key file, [Config.KeyFile], by default <data-dir>/root.key: created
//     at first start from crypto/rand with mode 0600, and refused later if it
//     is a symbolic link, not a regular file, not owned by the user running
//     coffer, or open to group or others (as ssh refuses a private key). A
//     key beside the data protects a stolen database file only if the key
//     file is not stolen with it; [Info.Created] lets the caller say so.
//
// A passphrase, [Config.Passphrase] (from a file or the environment, never a
// flag's value: command lines are visible to every user of the host), gives
// the root key through Argon2id with the parameters [Config.KDF], which the
// caller keeps in the store: nothing secret lies on disk, and whoever
// starts a node must type or supply the passphrase. A guess costs an
// Argon2id run (64 MiB by default), so the passphrase must still be long.
//
// A [Root] seals and opens small values with the root key through
// [envelope.Key]; envelope stays the only caller of an AEAD. The key bytes
// read from the environment or the file are wiped as soon as the cipher is
// built, and a Root never prints its key.
package seal

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
)

// KeySize is the size of the root key.
const KeySize = envelope.KeySize

// encodedSize is the length of the text form of a root key: standard base64
// with padding of KeySize bytes.
const encodedSize = (KeySize + 2) / 3 * 4

// Sources of the root key, as reported in Info.Source.
const (
	SourceEnv        = "env"
	SourceFile       = "file"
	SourcePassphrase = "passphrase"
)

// ErrClosed is returned by a Root used after Close.
var ErrClosed = errors.New("seal: the root key is closed")

// Config says where the root key comes from.
type Config struct {
	// EnvKey is the value of the COFFER_ROOT_KEY environment variable, read
	// by the caller. When it is not empty it is the root key, and KeyFile is
	// not used. The caller may unset the variable once Load returns so that
	// child processes do not inherit it.
	EnvKey string
	// KeyFile is the path of the key file, used when EnvKey is empty; it is
	// created if it does not exist.
	KeyFile string
	// Passphrase, when not nil, gives the root key through KDF, and
	// neither EnvKey nor KeyFile is used. Load does not keep it: the caller
	// wipes it once Load returns.
	Passphrase []byte
	// KDF are the parameters of a passphrase seal: those the store keeps,
	// or NewKDF's for a new store.
	KDF *KDF
}

// Info says where Load found the root key.
type Info struct {
	// Source is SourceEnv, SourceFile or SourcePassphrase.
	Source string
	// Path is the key file's path when Source is SourceFile.
	Path string
	// Created reports that Load has just generated the key and created the
	// key file. The caller should warn that the key sits next to the data,
	// that it must be backed up apart from it, and that losing it loses
	// every secret.
	Created bool
}

// Root holds the root key. It is safe for concurrent use.
type Root struct {
	key atomic.Pointer[envelope.Key]
}

// Load returns the root key derived from cfg.Passphrase if it is set, else
// from cfg.EnvKey if it is set, else from cfg.KeyFile, which it creates if it
// does not exist. Its errors say what is
// wrong and how to fix it, and never hold key material.
func Load(cfg Config) (*Root, Info, error) {
	if cfg.Passphrase != nil {
		if cfg.KDF == nil {
			return nil, Info{}, errors.New("seal: a passphrase needs its KDF parameters")
		}
		r, err := rootFromPassphrase(cfg.Passphrase, cfg.KDF)
		if err != nil {
			return nil, Info{}, err
		}
		return r, Info{Source: SourcePassphrase}, nil
	}
	if cfg.EnvKey != "" {
		r, err := rootFromEnv(cfg.EnvKey)
		if err != nil {
			return nil, Info{}, err
		}
		return r, Info{Source: SourceEnv}, nil
	}
	if cfg.KeyFile == "" {
		return nil, Info{}, errors.New("seal: no root key: set COFFER_ROOT_KEY or configure a key file")
	}
	r, created, err := loadFile(cfg.KeyFile)
	if err != nil {
		return nil, Info{}, err
	}
	return r, Info{Source: SourceFile, Path: cfg.KeyFile, Created: created}, nil
}

// rootFromEnv decodes the value of COFFER_ROOT_KEY.
func rootFromEnv(value string) (*Root, error) {
	text := []byte(value) // a copy we can wipe; the string itself cannot be
	defer clear(text)
	r, err := decodeRoot(text)
	if err != nil {
		return nil, fmt.Errorf("seal: COFFER_ROOT_KEY %s", err)
	}
	return r, nil
}

// decodeRoot makes a Root from the text form of a key. Its error completes a
// sentence that names the source and never quotes the text.
func decodeRoot(text []byte) (*Root, error) {
	if len(text) != encodedSize {
		return nil, fmt.Errorf("is not a root key: want %d characters of standard base64 (32 random bytes, e.g. from `openssl rand -base64 32`), got %d", encodedSize, len(text))
	}
	var raw [KeySize + 1]byte // DecodedLen(encodedSize) is one more than KeySize
	defer clear(raw[:])
	n, err := base64.StdEncoding.Strict().Decode(raw[:], text)
	if err != nil {
		return nil, errors.New("is not a root key: not valid standard base64 with padding")
	}
	if n != KeySize {
		return nil, fmt.Errorf("is not a root key: decodes to %d bytes, want %d", n, KeySize)
	}
	return newRoot(raw[:KeySize])
}

// newRoot makes a Root from raw and wipes raw.
func newRoot(raw []byte) (*Root, error) {
	defer clear(raw)
	k, err := envelope.NewKey(raw)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	r := &Root{}
	r.key.Store(k)
	return r, nil
}

// Wrap seals plaintext under the root key, authenticating ad. Callers give
// every kind of value its own ad (see envelope.AD), so that a value wrapped
// for one purpose never opens for another. Returns ErrClosed.
func (r *Root) Wrap(plaintext, ad []byte) ([]byte, error) {
	k := r.key.Load()
	if k == nil {
		return nil, ErrClosed
	}
	return k.Seal(plaintext, ad), nil
}

// Unwrap opens a value made by Wrap with the same ad. Returns ErrClosed,
// envelope.ErrMalformed, and envelope.ErrIntegrity when ct was not wrapped by
// this root key with this ad.
func (r *Root) Unwrap(ct, ad []byte) ([]byte, error) {
	k := r.key.Load()
	if k == nil {
		return nil, ErrClosed
	}
	pt, err := k.Open(ct, ad)
	if err != nil {
		return nil, fmt.Errorf("seal: unwrap with the root key: %w", err)
	}
	return pt, nil
}

// Close drops the root key; later calls return ErrClosed. The bytes it was
// made from were wiped when the Root was made; the AES key schedule inside
// crypto/aes cannot be wiped from outside the standard library, so dropping
// the last reference to it is all Close can do. Calls already running finish
// normally.
func (r *Root) Close() error {
	r.key.Store(nil)
	return nil
}

// String implements fmt.Stringer; a Root never prints its key.
func (*Root) String() string { return coffer.Redacted }

// GoString implements fmt.GoStringer.
func (*Root) GoString() string { return coffer.Redacted }

// Format implements fmt.Formatter so that no verb prints key material.
func (*Root) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(coffer.Redacted)) }

// LogValue keeps the root key out of structured logs.
func (*Root) LogValue() slog.Value { return slog.StringValue(coffer.Redacted) }
