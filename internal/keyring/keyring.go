// Package keyring manages coffer's key-encryption keys ("protection keys"):
// one default key per project plus user-managed ones, each with numbered,
// immutable versions. A key version is 32 random bytes wrapped by the root
// key and stored through storage.Tx, so the store never holds a usable key.
// Version data is sealed by package envelope under a fresh data key wrapped by
// the latest version of the secret's protection key; rotation adds a version
// and re-wraps data keys, never data.
//
// Why a keyring between the root key and the data: the root key can stay
// outside the data directory and be used rarely, a project's data can be
// re-keyed without touching other projects, and rotating a key re-wraps one
// 32-byte data key per version rather than re-encrypting every secret.
//
// What each call reads from storage:
//
//   - OpenVersion reads nothing when the key version named by the
//     ciphertext is cached, which it is after its first use in this process
//     (versions are immutable, so the cache never needs invalidating). On a
//     miss it reads the key (once per key) and the key version.
//   - SealVersion reads the project's default key (keyID "", on every call;
//     for another key, the key once, to check its project) and the key's
//     latest version in the caller's transaction, on every call. Both
//     could be cached, but a cache filled inside a transaction the caller
//     later rolls back would name a key that was never committed, and data
//     sealed under it would be lost; and with several nodes on one database,
//     a cached "latest" would keep sealing under a retired version after
//     another node rotated. These are two indexed reads in a transaction that
//     writes and syncs anyway. Caching them safely needs a commit hook on
//     storage.Tx plus invalidation across nodes.
//   - Rotate runs its own Update, RotateKey works in the caller's; both
//     read the root key check first (CheckRoot, rootkey.go). Rewrap reads
//     the latest version like SealVersion and, on a miss, the versions
//     like OpenVersion.
//
// The keyring relies on being the only writer of key versions: a version it
// caches is either committed, or was created by it under a fresh key id in a
// transaction that rolled back, so no committed ciphertext can name it.
package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/seal"
	"github.com/coffer-dev/coffer/internal/storage"
)

// CheckMeta names the meta value that records which root key the store
// belongs to.
const CheckMeta = "root_key_check"

// DefaultKeyName is the name of the key EnsureDefaultKey creates.
const DefaultKeyName = "default"

// Associated-data purposes of everything the root key wraps, so that a value
// wrapped for one purpose never opens for another.
const (
	purposeCheck      = "coffer.keyring.root-key-check.v1"
	purposeKEK        = "coffer.keyring.key-version.v1"
	purposeCredential = "coffer.keyring.credential.v1"
)

// checkValue is what the check meta value wraps. It is public by design: the
// check proves possession of the root key, not secrecy of its content.
const checkValue = "coffer root key check v1"

var (
	// ErrWrongRootKey is returned by Open when the store was created with
	// another root key.
	ErrWrongRootKey = errors.New("keyring: the root key does not match this data directory, " +
		"so nothing was changed: start coffer with the root key this data directory was created with " +
		"(its key file or COFFER_ROOT_KEY)")
	// ErrClosed is returned by a Keyring used after Close.
	ErrClosed = errors.New("keyring: closed")
	// ErrRootKeyChanged is returned by CheckRoot, and by every call that
	// would store something sealed under the root key, once the root key
	// of the store was rotated and this keyring's is the old one.
	ErrRootKeyChanged = &coffer.Error{Code: coffer.EUNAVAILABLE,
		Message: "the root key of the store was rotated: restart this node with the new root key"}
)

// Keyring gives access to protection keys. It is safe for concurrent use.
type Keyring struct {
	root *seal.Root
	now  func() time.Time

	closed atomic.Bool
	// keks caches unwrapped key versions: versionRef -> *envelope.Key. A
	// version never changes once created, so an entry is valid forever, on
	// every node.
	keks sync.Map
	// projects caches the project of each key: key id -> project id. A key
	// never moves to another project.
	projects sync.Map
}

// versionRef names one key version.
type versionRef struct {
	keyID   string
	version uint32
}

// Open returns a Keyring over store whose key versions are wrapped by root.
// now is the clock for creation times; nil means time.Now.
//
// Open checks that root is the root key the store was created with, using
// the CheckMeta value: the store's first Open writes it, later ones verify it
// in a read-only transaction before any write. Returns ErrWrongRootKey, in
// which case it has written nothing. The Keyring does not own root: close
// root after the Keyring.
func Open(ctx context.Context, store storage.Store, root *seal.Root, now func() time.Time) (*Keyring, error) {
	if store == nil || root == nil {
		return nil, errors.New("keyring: Open needs a store and a root key")
	}
	if now == nil {
		now = time.Now
	}

	missing := false
	err := store.View(ctx, func(tx storage.Tx) error {
		check, err := tx.GetMeta(ctx, CheckMeta)
		if errors.Is(err, storage.ErrNotFound) {
			missing = true
			return nil
		} else if err != nil {
			return fmt.Errorf("keyring: read root key check: %w", err)
		}
		return verifyCheck(root, check)
	})
	if err != nil {
		return nil, err
	}

	if missing {
		// A new store. Another node may be creating it too: look again
		// inside the write transaction.
		err := store.Update(ctx, func(tx storage.Tx) error {
			check, err := tx.GetMeta(ctx, CheckMeta)
			if err == nil {
				return verifyCheck(root, check)
			} else if !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("keyring: read root key check: %w", err)
			}
			check, err = root.Wrap([]byte(checkValue), checkAD())
			if err != nil {
				return fmt.Errorf("keyring: %w", err)
			}
			if err := tx.PutMeta(ctx, CheckMeta, check); err != nil {
				return fmt.Errorf("keyring: write root key check: %w", err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return &Keyring{root: root, now: now}, nil
}

// verifyCheck returns ErrWrongRootKey unless check was wrapped by root.
func verifyCheck(root *seal.Root, check []byte) error {
	pt, err := root.Unwrap(check, checkAD())
	switch {
	case errors.Is(err, envelope.ErrIntegrity):
		return ErrWrongRootKey
	case errors.Is(err, envelope.ErrMalformed):
		return fmt.Errorf("keyring: the root key check value %q in the store is damaged; nothing was changed: %w", CheckMeta, err)
	case err != nil:
		return fmt.Errorf("keyring: %w", err)
	case !bytes.Equal(pt, []byte(checkValue)):
		return fmt.Errorf("keyring: the root key check value %q in the store holds an unknown value; nothing was changed", CheckMeta)
	}
	return nil
}

// EnsureDefaultKey returns the default protection key of a project, creating
// it with its version 1 in tx if the project has none yet. Returns ErrClosed
// and the errors of tx, among them storage.ErrConflict when a concurrent
// transaction created the key first (retry the transaction).
func (kr *Keyring) EnsureDefaultKey(ctx context.Context, tx storage.Tx, projectID string) (*storage.Key, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	if projectID == "" {
		return nil, errors.New("keyring: empty project id")
	}
	key, err := tx.GetDefaultKey(ctx, projectID)
	if err == nil {
		kr.projects.Store(key.ID, key.ProjectID)
		return key, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("keyring: default key of project %s: %w", projectID, err)
	}

	key = &storage.Key{
		ID:        uuid.NewString(),
		ProjectID: projectID,
		Name:      DefaultKeyName,
		Default:   true,
		CreatedAt: kr.now(),
	}
	if err := tx.CreateKey(ctx, key); err != nil {
		return nil, fmt.Errorf("keyring: create default key of project %s: %w", projectID, err)
	}
	if _, err := kr.createVersion(ctx, tx, key, 1); err != nil {
		return nil, err
	}
	return key, nil
}

// CreateKey creates a user-managed protection key of a project, with its
// version 1, in tx. Returns ErrClosed and the errors of tx.
func (kr *Keyring) CreateKey(ctx context.Context, tx storage.Tx, projectID, name string) (*storage.Key, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	if projectID == "" {
		return nil, errors.New("keyring: empty project id")
	}
	key := &storage.Key{
		ID:        uuid.NewString(),
		ProjectID: projectID,
		Name:      name,
		CreatedAt: kr.now(),
	}
	if err := tx.CreateKey(ctx, key); err != nil {
		return nil, fmt.Errorf("keyring: create key of project %s: %w", projectID, err)
	}
	if _, err := kr.createVersion(ctx, tx, key, 1); err != nil {
		return nil, err
	}
	return key, nil
}

// SealVersion seals a version's data under the latest version of protection
// key keyID, or of the project's default key if keyID is "" (created if
// missing). ad binds the data to its row: use envelope.VersionAD. Returns
// ErrClosed, storage.ErrNotFound when keyID does not exist in projectID, and
// the errors of tx.
func (kr *Keyring) SealVersion(ctx context.Context, tx storage.Tx, projectID, keyID string, plaintext, ad []byte) ([]byte, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	if keyID == "" {
		key, err := kr.EnsureDefaultKey(ctx, tx, projectID)
		if err != nil {
			return nil, err
		}
		keyID = key.ID
	} else {
		owner, err := kr.keyProject(ctx, tx, keyID)
		if err != nil {
			return nil, err
		}
		if owner != projectID {
			// Say the same as for a key that does not exist.
			return nil, fmt.Errorf("keyring: key %s: %w", keyID, storage.ErrNotFound)
		}
	}

	latest, err := tx.LatestKeyVersion(ctx, keyID)
	if err != nil {
		return nil, fmt.Errorf("keyring: latest version of key %s: %w", keyID, err)
	}
	kek, err := kr.unwrap(projectID, latest)
	if err != nil {
		return nil, err
	}
	ct, err := envelope.SealData(kek, keyID, latest.Version, plaintext, ad)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return ct, nil
}

// OpenVersion opens data sealed by SealVersion with the same ad, with the key
// version its header names. Returns ErrClosed, envelope.ErrMalformed,
// envelope.ErrIntegrity (tampered data, or data moved from another row),
// storage.ErrNotFound when the key version does not exist, and the errors of
// tx.
func (kr *Keyring) OpenVersion(ctx context.Context, tx storage.Tx, ct, ad []byte) ([]byte, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	keyID, version, err := envelope.ParseHeader(ct)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	kek, err := kr.version(ctx, tx, keyID, version)
	if err != nil {
		return nil, err
	}
	pt, err := envelope.OpenData(kek, ct, ad)
	if err != nil {
		return nil, fmt.Errorf("keyring: open data sealed under key %s version %d: %w", keyID, version, err)
	}
	return pt, nil
}

// Rotate adds a version to protection key keyID, in its own transaction.
// Data sealed from then on uses it; data sealed before still opens, and
// Rewrap moves it to the new version. Returns ErrClosed, storage.ErrNotFound,
// storage.ErrConflict when a concurrent rotation won (retry), and the errors
// of store.
func (kr *Keyring) Rotate(ctx context.Context, store storage.Store, keyID string) (*storage.KeyVersion, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	var (
		created *storage.KeyVersion
		kek     *envelope.Key
	)
	err := store.Update(ctx, func(tx storage.Tx) (err error) {
		created, kek, err = kr.rotate(ctx, tx, keyID)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Committed: the version is now a fact on every node.
	kr.remember(versionRef{created.KeyID, created.Version}, kek)
	return created, nil
}

// RotateKey adds a version to protection key keyID in tx, the caller's
// transaction. Unlike Rotate it caches nothing, since tx may roll back: the
// version is unwrapped from the store at its first use. Returns ErrClosed,
// storage.ErrNotFound, and the errors of tx, among them
// storage.ErrConflict when a concurrent rotation won (retry).
func (kr *Keyring) RotateKey(ctx context.Context, tx storage.Tx, keyID string) (*storage.KeyVersion, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	v, _, err := kr.rotate(ctx, tx, keyID)
	return v, err
}

// rotate creates the next version of key keyID in tx.
func (kr *Keyring) rotate(ctx context.Context, tx storage.Tx, keyID string) (*storage.KeyVersion, *envelope.Key, error) {
	key, err := tx.GetKey(ctx, keyID)
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: key %s: %w", keyID, err)
	}
	next := uint32(1)
	latest, err := tx.LatestKeyVersion(ctx, keyID)
	switch {
	case err == nil && latest.Version == math.MaxUint32:
		return nil, nil, fmt.Errorf("keyring: key %s has no version left", keyID)
	case err == nil:
		next = latest.Version + 1
	case !errors.Is(err, storage.ErrNotFound):
		return nil, nil, fmt.Errorf("keyring: latest version of key %s: %w", keyID, err)
	}
	return kr.newVersion(ctx, tx, key, next)
}

// Rewrap returns ct with its data key re-wrapped under the latest version of
// the key that sealed it; the sealed data is unchanged and ad must be the
// one it was sealed with. If ct already uses the latest version, Rewrap
// returns ct itself. Returns ErrClosed, envelope.ErrMalformed,
// envelope.ErrIntegrity, storage.ErrNotFound and the errors of tx.
func (kr *Keyring) Rewrap(ctx context.Context, tx storage.Tx, ct, ad []byte) ([]byte, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	keyID, version, err := envelope.ParseHeader(ct)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	latest, err := tx.LatestKeyVersion(ctx, keyID)
	if err != nil {
		return nil, fmt.Errorf("keyring: latest version of key %s: %w", keyID, err)
	}
	if latest.Version == version {
		return ct, nil
	}
	oldKEK, err := kr.version(ctx, tx, keyID, version)
	if err != nil {
		return nil, err
	}
	projectID, err := kr.keyProject(ctx, tx, keyID)
	if err != nil {
		return nil, err
	}
	newKEK, err := kr.unwrap(projectID, latest)
	if err != nil {
		return nil, err
	}
	out, err := envelope.Rewrap(ct, oldKEK, newKEK, keyID, latest.Version, ad)
	if err != nil {
		return nil, fmt.Errorf("keyring: rewrap data sealed under key %s version %d: %w", keyID, version, err)
	}
	return out, nil
}

// SealCredential seals an API secret key (or any credential that must be
// read back, as HMAC signature checks need) directly under the root key. ad
// binds it to its record, e.g. the access key. Returns ErrClosed.
func (kr *Keyring) SealCredential(plaintext, ad []byte) ([]byte, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	ct, err := kr.root.Wrap(plaintext, credentialAD(ad))
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return ct, nil
}

// OpenCredential opens a credential sealed by SealCredential with the same
// ad. Returns ErrClosed, envelope.ErrMalformed and envelope.ErrIntegrity.
func (kr *Keyring) OpenCredential(ct, ad []byte) ([]byte, error) {
	if kr.closed.Load() {
		return nil, ErrClosed
	}
	pt, err := kr.root.Unwrap(ct, credentialAD(ad))
	if err != nil {
		return nil, fmt.Errorf("keyring: open credential: %w", err)
	}
	return pt, nil
}

// Close drops every cached key version; later calls return ErrClosed. The
// bytes each version was unwrapped into were wiped as soon as its cipher was
// built; the AES key schedules inside crypto/aes cannot be wiped from
// outside the standard library, so dropping them is all Close can do. Calls
// already running finish normally. Close does not close the root key.
func (kr *Keyring) Close() error {
	kr.closed.Store(true)
	kr.keks.Clear()
	kr.projects.Clear()
	return nil
}

// version returns key version (keyID, version), from the cache or from tx.
func (kr *Keyring) version(ctx context.Context, tx storage.Tx, keyID string, version uint32) (*envelope.Key, error) {
	if k, ok := kr.keks.Load(versionRef{keyID, version}); ok {
		return k.(*envelope.Key), nil
	}
	projectID, err := kr.keyProject(ctx, tx, keyID)
	if err != nil {
		return nil, err
	}
	v, err := tx.GetKeyVersion(ctx, keyID, version)
	if err != nil {
		return nil, fmt.Errorf("keyring: key %s version %d: %w", keyID, version, err)
	}
	return kr.unwrap(projectID, v)
}

// unwrap returns the key of version v of a key of projectID, from the cache
// or by unwrapping it with the root key.
func (kr *Keyring) unwrap(projectID string, v *storage.KeyVersion) (*envelope.Key, error) {
	ref := versionRef{v.KeyID, v.Version}
	if k, ok := kr.keks.Load(ref); ok {
		return k.(*envelope.Key), nil
	}
	raw, err := kr.root.Unwrap(v.Wrapped, kekAD(projectID, v.KeyID, v.Version))
	if err != nil {
		return nil, fmt.Errorf("keyring: key %s version %d does not open with the root key: %w", v.KeyID, v.Version, err)
	}
	kek, err := envelope.NewKey(raw)
	clear(raw)
	if err != nil {
		return nil, fmt.Errorf("keyring: key %s version %d: %w", v.KeyID, v.Version, err)
	}
	return kr.remember(ref, kek), nil
}

// remember caches kek as key version ref and returns the cached key.
func (kr *Keyring) remember(ref versionRef, kek *envelope.Key) *envelope.Key {
	k, _ := kr.keks.LoadOrStore(ref, kek)
	if kr.closed.Load() {
		// Close ran meanwhile: keep nothing.
		kr.keks.Delete(ref)
	}
	return k.(*envelope.Key)
}

// keyProject returns the project of key keyID.
func (kr *Keyring) keyProject(ctx context.Context, tx storage.Tx, keyID string) (string, error) {
	if p, ok := kr.projects.Load(keyID); ok {
		return p.(string), nil
	}
	key, err := tx.GetKey(ctx, keyID)
	if err != nil {
		return "", fmt.Errorf("keyring: key %s: %w", keyID, err)
	}
	kr.projects.Store(key.ID, key.ProjectID)
	return key.ProjectID, nil
}

// createVersion creates version n of key in tx and caches it. Caching before
// commit is safe only because key is new in this transaction: its id is
// fresh, so if tx rolls back no committed ciphertext can ever name it.
func (kr *Keyring) createVersion(ctx context.Context, tx storage.Tx, key *storage.Key, n uint32) (*storage.KeyVersion, error) {
	v, kek, err := kr.newVersion(ctx, tx, key, n)
	if err != nil {
		return nil, err
	}
	kr.projects.Store(key.ID, key.ProjectID)
	kr.remember(versionRef{v.KeyID, v.Version}, kek)
	return v, nil
}

// newVersion generates version n of key, wraps it with the root key and
// records it in tx. It caches nothing.
func (kr *Keyring) newVersion(ctx context.Context, tx storage.Tx, key *storage.Key, n uint32) (*storage.KeyVersion, *envelope.Key, error) {
	if err := kr.CheckRoot(ctx, tx); err != nil {
		return nil, nil, err
	}
	var raw [envelope.KeySize]byte
	defer clear(raw[:])
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails; it crashes the program instead.
	wrapped, err := kr.root.Wrap(raw[:], kekAD(key.ProjectID, key.ID, n))
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: %w", err)
	}
	kek, err := envelope.NewKey(raw[:])
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: %w", err)
	}
	v := &storage.KeyVersion{KeyID: key.ID, Version: n, Wrapped: wrapped, CreatedAt: kr.now()}
	if err := tx.CreateKeyVersion(ctx, v); err != nil {
		return nil, nil, fmt.Errorf("keyring: create key %s version %d: %w", key.ID, n, err)
	}
	return v, kek, nil
}

// checkAD is the associated data of the root key check.
func checkAD() []byte { return envelope.AD(purposeCheck) }

// kekAD binds a wrapped key version to its key, its version and its
// project: a version row moved to another key, or a key row moved to another
// project, no longer opens.
func kekAD(projectID, keyID string, version uint32) []byte {
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], version)
	return envelope.AD(purposeKEK, []byte(projectID), []byte(keyID), v[:])
}

// credentialAD separates credentials from everything else the root key
// wraps.
func credentialAD(ad []byte) []byte { return envelope.AD(purposeCredential, ad) }
