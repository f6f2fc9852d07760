package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/storage"
)

// RootRewrapper re-wraps what the old root key wraps under the new one; it
// is implemented by internal/keyring's RootRewrap.
type RootRewrapper interface {
	// RewrapKeys checks in tx that the store belongs to the old root key
	// (locking the check), writes the check of the new one and re-wraps
	// every protection key version; it returns how many.
	RewrapKeys(ctx context.Context, tx storage.Tx) (int, error)
	// RewrapCredential re-wraps a credential sealed with ad.
	RewrapCredential(ciphertext, ad []byte) ([]byte, error)
}

// RootRotation is what RotateRootKey did.
type RootRotation struct {
	// KeyVersions, Credentials: how many of each were re-wrapped.
	KeyVersions int
	Credentials int
}

// ActionRotateRoot is the action of the audit record of a root key
// rotation, followed by the seal of the new key.
const ActionRotateRoot = "rotate-root"

// RotateRootKey re-wraps under a new root key, in one transaction of store,
// everything the store holds under the old one: the root key check, every
// protection key version, the secret keys of API keys, the signing secrets
// of triggers, the credentials of key vault targets, the CA's key and the
// export key's private half. The
// transaction also runs extra (when not nil; the passphrase seal writes its
// new parameters there) and appends the rotation's record to the audit
// trail, as the system, with dialect "operator" and the action
// "rotate-root <seal>". Either all of it commits or nothing does: after the
// commit only the new key opens the store, before it only the old one.
// Version data is not touched: it is sealed under protection keys, which do
// not change.
func RotateRootKey(ctx context.Context, store storage.Store, rw RootRewrapper, seal string, now func() time.Time, extra func(tx storage.Tx) error) (*RootRotation, error) {
	var out RootRotation
	err := store.Update(ctx, func(tx storage.Tx) error {
		out = RootRotation{}
		n, err := rw.RewrapKeys(ctx, tx)
		if err != nil {
			return err
		}
		out.KeyVersions = n
		kt, ok := tx.(storage.KeyRotationTx)
		if !ok {
			return errors.New("engine: the store cannot rotate its root key")
		}
		ws, err := kt.ListRootWrapped(ctx)
		if err != nil {
			return err
		}
		for _, w := range ws {
			var ad []byte
			switch w.Kind {
			case storage.RootWrappedKeyVersion:
				continue
			case storage.RootWrappedAPIKey:
				ad = apiKeyAD(w.ID)
			case storage.RootWrappedTrigger:
				ad = triggerAD(w.ID)
			case storage.RootWrappedKeyVault:
				ad = credentialAD(w.ID)
			default:
				return fmt.Errorf("engine: unknown value %s %s sealed under the root key", w.Kind, w.ID)
			}
			if w.Sealed, err = rw.RewrapCredential(w.Sealed, ad); err != nil {
				return fmt.Errorf("%s %s: %w", w.Kind, w.ID, err)
			}
			if err := kt.UpdateRootWrapped(ctx, w); err != nil {
				return err
			}
			out.Credentials++
		}
		if err := rewrapCA(ctx, tx, rw); err != nil {
			return err
		}
		if err := rewrapExportKey(ctx, tx, rw); err != nil {
			return err
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		rec := &coffer.AuditRecord{
			Time: now(), PrincipalID: SystemPrincipal, Dialect: "operator",
			Action:  ActionRotateRoot + " " + seal,
			Outcome: coffer.AuditOK, Status: 200, RequestID: coffer.NewRequestID(),
		}
		if err := audit.Append(ctx, tx, []*coffer.AuditRecord{rec}); err != nil {
			return err
		}
		// The nodes that run on a shared store hear of it.
		if nt, ok := tx.(storage.NotifyTx); ok {
			return nt.Notify(ctx, storage.Change{Kind: storage.ChangeRootKey})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// rewrapCA re-wraps the CA's key, if the store has a CA.
func rewrapCA(ctx context.Context, tx storage.Tx, rw RootRewrapper) error {
	return rewrapMeta(ctx, tx, rw, metaCA, caAD, func(s *storedCA) *[]byte { return &s.SealedKey })
}

// rewrapExportKey re-wraps the private half of the instance's export key,
// if it has one.
func rewrapExportKey(ctx context.Context, tx storage.Tx, rw RootRewrapper) error {
	return rewrapMeta(ctx, tx, rw, metaExportKey, exportKeyAD, func(s *storedExportKey) *[]byte { return &s.SealedPrivate })
}

// rewrapMeta re-wraps the sealed field of the JSON meta value key, if the
// store holds one.
func rewrapMeta[T any](ctx context.Context, tx storage.Tx, rw RootRewrapper, key string, ad []byte, sealed func(*T) *[]byte) error {
	b, err := tx.GetMeta(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	var s T
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	f := sealed(&s)
	if *f, err = rw.RewrapCredential(*f, ad); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if b, err = json.Marshal(s); err != nil {
		return err
	}
	return tx.PutMeta(ctx, key, b)
}
