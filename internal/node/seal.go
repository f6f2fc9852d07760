package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/seal"
	"github.com/coffer-dev/coffer/internal/storage"
)

// ErrNotPassphrase means a node was started with a passphrase on a store
// whose root key comes from a key file or COFFER_ROOT_KEY.
var ErrNotPassphrase = errors.New("this store is sealed by a root key (its key file or COFFER_ROOT_KEY), " +
	"not by a passphrase: start coffer without --seal passphrase; nothing was changed")

// ensureKDF returns the passphrase parameters the store keeps, writing new
// ones on the store's first start. Every node sharing the store derives
// the same root key from the same passphrase: the first to start writes the
// parameters, the others wait for its transaction (GetMeta locks the name)
// and read them.
func ensureKDF(ctx context.Context, s storage.Store) (*seal.KDF, error) {
	var kdf *seal.KDF
	err := s.Update(ctx, func(tx storage.Tx) error {
		b, err := tx.GetMeta(ctx, seal.KDFMeta)
		if err == nil {
			kdf, err = seal.DecodeKDF(b)
			return err
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if _, err := tx.GetMeta(ctx, keyring.CheckMeta); err == nil {
			return ErrNotPassphrase
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		kdf = seal.NewKDF()
		return tx.PutMeta(ctx, seal.KDFMeta, kdf.Encode())
	})
	if err != nil {
		return nil, fmt.Errorf("passphrase seal: %w", err)
	}
	return kdf, nil
}

// wrongSeal says more about a root key the store refused, when the seal
// is the wrong kind or the passphrase the wrong one.
func wrongSeal(ctx context.Context, s storage.Store, cfg Config, err error) error {
	if !errors.Is(err, keyring.ErrWrongRootKey) {
		return err
	}
	if cfg.Passphrase != nil {
		return fmt.Errorf("the passphrase does not open this store; nothing was changed: %w", err)
	}
	sealed := false
	_ = s.View(ctx, func(tx storage.Tx) error {
		_, gerr := tx.GetMeta(ctx, seal.KDFMeta)
		sealed = gerr == nil
		return nil
	})
	if sealed {
		return fmt.Errorf("this store is sealed by a passphrase: start coffer with --seal passphrase; nothing was changed: %w", err)
	}
	return err
}
