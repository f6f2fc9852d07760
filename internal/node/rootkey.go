package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/seal"
	"github.com/coffer-dev/coffer/internal/storage"
)

// NewRootKeyFile is where coffer operator rotate-root writes the new root
// key of a data directory whose key is in RootKeyFile, before it re-wraps
// anything under it; once the rotation commits, the file replaces
// RootKeyFile. A node that starts while it is there finishes the move, or
// removes it, whichever the store says (finishKeyFile).
const NewRootKeyFile = RootKeyFile + ".new"

// RotateRootConfig says where the store and its root key are, and where
// the new root key goes.
type RotateRootConfig struct {
	// DataDir and Store are the node's (Config).
	DataDir string
	Store   string
	// RootKey (COFFER_ROOT_KEY) or Passphrase give the current root key,
	// as in Config; without either, the key file of DataDir does.
	RootKey    string
	Passphrase []byte
	// NewKeyFile is where the new root key is written when the current one
	// comes from RootKey: a file that must not exist, written 0600 and
	// synced before anything is sealed under the key it holds.
	NewKeyFile string
	// NewPassphrase seals the store by a new passphrase, when the current
	// one comes from Passphrase; it may be the same passphrase (a new salt
	// makes a new root key).
	NewPassphrase []byte
	Logger        *slog.Logger
}

// RootRotation says what RotateRoot did.
type RootRotation struct {
	engine.RootRotation
	// Seal is the seal of the store: file, env or passphrase.
	Seal string
	// KeyFile is the file that holds the new root key (file and env).
	KeyFile string
}

// RotateRoot rotates the root key of a store, with no node of it running
// on SQLite (the data directory is locked): it generates a new root key
// (or derives one from the new passphrase with a new salt), makes it
// durable where the operator will find it, and then, in one transaction,
// re-wraps under it everything the old key wrapped and records the
// rotation in the audit trail (engine.RotateRootKey). With a key file, the
// new key is written to NewRootKeyFile first and moved over RootKeyFile
// once the transaction commits. At every instant one of the two keys opens
// the store, and it is on disk: a crash before the commit leaves the old
// key in use (the new file is removed by the next start), a crash after
// it leaves the new key in NewRootKeyFile (moved into place by the next
// start or the next run of RotateRoot). After the commit the old key is
// refused.
func RotateRoot(ctx context.Context, cfg RotateRootConfig) (_ *RootRotation, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	out := &RootRotation{Seal: seal.SourceFile}
	switch {
	case cfg.Passphrase != nil:
		out.Seal = seal.SourcePassphrase
		if cfg.NewPassphrase == nil {
			return nil, errors.New("rotating a passphrase seal needs the new passphrase")
		}
	case cfg.RootKey != "":
		out.Seal = seal.SourceEnv
		if cfg.NewKeyFile == "" {
			return nil, errors.New("the root key comes from COFFER_ROOT_KEY: name the file the new key is written to (--new-key-file)")
		}
	}
	ncfg := Config{DataDir: cfg.DataDir, Store: cfg.Store, NoMigrate: true, Logger: cfg.Logger}
	var lock *dirLock
	if cfg.Store == "" {
		if !exists(filepath.Join(cfg.DataDir, DatabaseFile)) {
			return nil, fmt.Errorf("no store in %s: nothing to rotate", cfg.DataDir)
		}
		if lock, err = lockDataDir(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("%w: stop the node before rotating its root key", err)
		}
		defer lock.release()
	}
	st, err := openStore(ctx, ncfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	keyPath := filepath.Join(cfg.DataDir, RootKeyFile)
	var (
		oldRoot, newRoot *seal.Root
		extra            func(tx storage.Tx) error
	)
	defer func() {
		if oldRoot != nil {
			oldRoot.Close()
		}
		if newRoot != nil {
			newRoot.Close()
		}
	}()
	// The current key first: nothing is written unless it opens the store.
	var next *seal.KDF
	switch out.Seal {
	case seal.SourcePassphrase:
		kdf, err := storedKDF(ctx, st)
		if err != nil {
			return nil, err
		}
		if oldRoot, _, err = seal.Load(seal.Config{Passphrase: cfg.Passphrase, KDF: kdf}); err != nil {
			return nil, err
		}
	case seal.SourceEnv:
		if oldRoot, _, err = seal.Load(seal.Config{EnvKey: cfg.RootKey}); err != nil {
			return nil, err
		}
	default:
		if err := finishKeyFile(ctx, st, cfg.DataDir, cfg.Logger); err != nil {
			return nil, err
		}
		if oldRoot, err = seal.LoadKeyFile(keyPath); err != nil {
			return nil, err
		}
	}
	if err := keyring.Verify(ctx, st, oldRoot); err != nil {
		return nil, fmt.Errorf("the current root key: %w", err)
	}
	// Then the new one, durable before anything is sealed under it.
	switch out.Seal {
	case seal.SourcePassphrase:
		next = seal.NewKDF()
		if newRoot, _, err = seal.Load(seal.Config{Passphrase: cfg.NewPassphrase, KDF: next}); err != nil {
			return nil, fmt.Errorf("new passphrase: %w", err)
		}
		extra = func(tx storage.Tx) error { return tx.PutMeta(ctx, seal.KDFMeta, next.Encode()) }
	case seal.SourceEnv:
		out.KeyFile = cfg.NewKeyFile
		if newRoot, err = seal.CreateKeyFile(cfg.NewKeyFile); err != nil {
			return nil, err
		}
	default:
		out.KeyFile = keyPath
		if newRoot, err = seal.CreateKeyFile(filepath.Join(cfg.DataDir, NewRootKeyFile)); err != nil {
			return nil, err
		}
	}

	now := func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
	done, err := engine.RotateRootKey(ctx, st, keyring.NewRootRewrap(oldRoot, newRoot), out.Seal, now, extra)
	if err != nil {
		// Whether it committed is what the store says.
		if verr := keyring.Verify(ctx, st, newRoot); verr != nil {
			return nil, fmt.Errorf("rotate the root key: %w; the current root key is unchanged", err)
		}
		cfg.Logger.Warn("the rotation of the root key reported an error but committed", "error", err)
		done = &engine.RootRotation{}
	}
	out.RootRotation = *done
	if out.Seal == seal.SourceFile {
		if err := seal.ReplaceKeyFile(filepath.Join(cfg.DataDir, NewRootKeyFile), keyPath); err != nil {
			return nil, fmt.Errorf("the root key was rotated, but the new key is still in %s: %w",
				filepath.Join(cfg.DataDir, NewRootKeyFile), err)
		}
	}
	return out, nil
}

// storedKDF returns the passphrase parameters of a store sealed by a
// passphrase.
func storedKDF(ctx context.Context, st storage.Store) (*seal.KDF, error) {
	var kdf *seal.KDF
	err := st.View(ctx, func(tx storage.Tx) error {
		b, err := tx.GetMeta(ctx, seal.KDFMeta)
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNotPassphrase
		} else if err != nil {
			return err
		}
		kdf, err = seal.DecodeKDF(b)
		return err
	})
	return kdf, err
}

// finishKeyFile completes or undoes a rotation of the root key that
// stopped between writing NewRootKeyFile and moving it over RootKeyFile:
// if the new key opens the store, the rotation committed, and the new file
// replaces the old one; if the current key does, it did not, and the new
// file, which sealed nothing, is removed. If neither does, both stay, and
// the error says so.
func finishKeyFile(ctx context.Context, st storage.Store, dataDir string, log *slog.Logger) error {
	newPath := filepath.Join(dataDir, NewRootKeyFile)
	if !exists(newPath) {
		return nil
	}
	keyPath := filepath.Join(dataDir, RootKeyFile)
	newRoot, err := seal.LoadKeyFile(newPath)
	if err != nil {
		return fmt.Errorf("an unfinished root key rotation left %s: %w", newPath, err)
	}
	defer newRoot.Close()
	switch err := keyring.Verify(ctx, st, newRoot); {
	case err == nil:
		log.Warn("finishing the rotation of the root key: the new key replaces the old one", "path", keyPath)
		return seal.ReplaceKeyFile(newPath, keyPath)
	case !errors.Is(err, keyring.ErrWrongRootKey):
		return fmt.Errorf("an unfinished root key rotation left %s, and the store cannot tell which key is current: %w", newPath, err)
	}
	oldRoot, err := seal.LoadKeyFile(keyPath)
	if err != nil {
		return fmt.Errorf("an unfinished root key rotation left %s: %w", newPath, err)
	}
	defer oldRoot.Close()
	if err := keyring.Verify(ctx, st, oldRoot); err != nil {
		return fmt.Errorf("neither %s nor %s opens the store; both are kept: %w", keyPath, newPath, err)
	}
	log.Warn("an unfinished rotation of the root key did not commit: its new key is removed, the current key stays", "path", newPath)
	return seal.RemoveKeyFile(newPath)
}
