package keyring

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer-dev/coffer/internal/seal"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Rotating the root key re-wraps, in one transaction, everything the store
// holds under it: the root key check, every protection key version and the
// credentials. The protection keys themselves do not change, so neither
// does any ciphertext of a version, and a node that holds them unwrapped
// in memory goes on serving reads and writes of secrets. What such a node
// must no longer do is seal anything new under its old root key: every
// transaction that does (a new key version, a credential) first checks, in
// the same transaction, that the store's check still opens with its root
// key (CheckRoot). The check's name is locked by the reader inside a write
// transaction (storage.Tx.GetMeta), and the rotation takes that lock first,
// so a transaction that sealed under the old key either committed before
// the rotation began, which then re-wraps what it wrote, or waits and
// fails with ErrRootKeyChanged.

// CheckRoot returns ErrRootKeyChanged unless the store's root key check, read
// in tx, opens with this keyring's root key. Inside Update it locks the
// check's name until tx ends. Every transaction that stores a value sealed
// under the root key calls it: newVersion does, and so must the callers of
// SealCredential.
func (kr *Keyring) CheckRoot(ctx context.Context, tx storage.Tx) error {
	if kr.closed.Load() {
		return ErrClosed
	}
	check, err := tx.GetMeta(ctx, CheckMeta)
	if err != nil {
		return fmt.Errorf("keyring: read root key check: %w", err)
	}
	if err := verifyCheck(kr.root, check); errors.Is(err, ErrWrongRootKey) {
		return ErrRootKeyChanged
	} else if err != nil {
		return err
	}
	return nil
}

// Verify returns ErrWrongRootKey unless root opens the root key check of
// store, and storage.ErrNotFound when the store has none. It writes nothing.
func Verify(ctx context.Context, store storage.Store, root *seal.Root) error {
	return store.View(ctx, func(tx storage.Tx) error {
		check, err := tx.GetMeta(ctx, CheckMeta)
		if err != nil {
			return err
		}
		return verifyCheck(root, check)
	})
}

// RootRewrap re-wraps under a new root key what the old one wrapped.
type RootRewrap struct {
	from, to *seal.Root
}

// NewRootRewrap returns a RootRewrap from root key from to root key to.
func NewRootRewrap(from, to *seal.Root) *RootRewrap { return &RootRewrap{from: from, to: to} }

// RewrapKeys checks, in tx, that the store belongs to the old root key,
// locking the check's name, writes a check of the new one, and re-wraps
// every protection key version under the new one. It returns how many key
// versions it re-wrapped. Returns ErrWrongRootKey (nothing is changed), and
// the errors of tx.
func (r *RootRewrap) RewrapKeys(ctx context.Context, tx storage.Tx) (int, error) {
	kt, ok := tx.(storage.KeyRotationTx)
	if !ok {
		return 0, errors.New("keyring: the store cannot rotate its root key")
	}
	check, err := tx.GetMeta(ctx, CheckMeta)
	if err != nil {
		return 0, fmt.Errorf("keyring: read root key check: %w", err)
	}
	if err := verifyCheck(r.from, check); err != nil {
		return 0, err
	}
	if check, err = r.to.Wrap([]byte(checkValue), checkAD()); err != nil {
		return 0, fmt.Errorf("keyring: %w", err)
	}
	if err := tx.PutMeta(ctx, CheckMeta, check); err != nil {
		return 0, fmt.Errorf("keyring: write root key check: %w", err)
	}
	ws, err := kt.ListRootWrapped(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, w := range ws {
		if w.Kind != storage.RootWrappedKeyVersion {
			continue
		}
		ad := kekAD(w.ProjectID, w.ID, w.Version)
		if w.Sealed, err = r.rewrap(w.Sealed, ad); err != nil {
			return 0, fmt.Errorf("keyring: key %s version %d: %w", w.ID, w.Version, err)
		}
		if err := kt.UpdateRootWrapped(ctx, w); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// RewrapCredential returns a credential sealed by SealCredential with ad
// under the old root key, sealed under the new one. Returns
// envelope.ErrMalformed and envelope.ErrIntegrity.
func (r *RootRewrap) RewrapCredential(ct, ad []byte) ([]byte, error) {
	out, err := r.rewrap(ct, credentialAD(ad))
	if err != nil {
		return nil, fmt.Errorf("keyring: credential: %w", err)
	}
	return out, nil
}

// rewrap opens ct with the old root key and seals it with the new one; the
// plaintext is wiped.
func (r *RootRewrap) rewrap(ct, ad []byte) ([]byte, error) {
	pt, err := r.from.Unwrap(ct, ad)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return r.to.Wrap(pt, ad)
}
