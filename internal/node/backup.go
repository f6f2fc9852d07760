package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/coffer-dev/coffer/internal/backup"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/seal"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
)

// dumpTo returns the engine's Dump of a store: a whole dump, end
// included, of the store under the read cache (the cache holds nothing
// the store does not). Nil for a store that cannot dump.
func dumpTo(s storage.Store) func(ctx context.Context, w io.Writer) error {
	d, ok := s.(storage.Dumper)
	if !ok {
		return nil
	}
	return func(ctx context.Context, w io.Writer) error {
		dw := backup.NewDumpWriter(w)
		if err := d.Dump(ctx, dw); err != nil {
			return err
		}
		return dw.End()
	}
}

// RestoreConfig says where a restore writes.
type RestoreConfig struct {
	// DataDir is the data directory of the restored node, where its
	// SQLite database is written: it must not exist, or be empty but for
	// the root key file. Unused with Store.
	DataDir string
	// Store, when set, is the URL of an empty PostgreSQL database to
	// restore into instead.
	Store string
}

// ErrRestoreTarget means a restore's target holds data already: nothing
// was written.
var ErrRestoreTarget = errors.New("the restore target is not empty: restore into an absent or empty data directory or database; nothing was written")

// Restore loads a dump into an absent or empty data directory's SQLite
// store, or an empty PostgreSQL database. open returns the dump from its
// start each time it is called: Restore reads it once to check it whole
// (its structure, counts and checksum, and through the backup file's
// chunks their authentication) before it creates anything, then again to
// load it, so that a damaged or truncated file writes nothing. The load
// itself is one transaction; a SQLite store is written to a temporary file
// renamed into place once complete.
func Restore(ctx context.Context, cfg RestoreConfig, open func() (io.ReadCloser, error)) (backup.Header, error) {
	var h backup.Header
	if cfg.Store == "" {
		if err := checkRestoreDir(cfg.DataDir); err != nil {
			return h, err
		}
	}
	// First pass: the whole dump checks out.
	h, err := readDump(open, func(d *backup.DumpReader) error { return d.Verify() })
	if err != nil {
		return h, err
	}
	if cfg.Store != "" {
		return h, restorePostgres(ctx, cfg, open)
	}
	return h, restoreSQLite(ctx, cfg, open)
}

// readDump opens the dump and runs fn on its reader.
func readDump(open func() (io.ReadCloser, error), fn func(*backup.DumpReader) error) (backup.Header, error) {
	rc, err := open()
	if err != nil {
		return backup.Header{}, err
	}
	defer rc.Close()
	d, err := backup.NewDumpReader(rc)
	if err != nil {
		return backup.Header{}, err
	}
	return d.Header(), fn(d)
}

// checkRestoreDir fails unless dir is absent or empty, but for a root key
// file. A lock file is not allowed either: a node served there.
func checkRestoreDir(dir string) error {
	if dir == "" {
		return errors.New("restore: no data directory")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, e := range entries {
		if e.Name() == RootKeyFile {
			continue
		}
		return fmt.Errorf("%w (%s holds %s)", ErrRestoreTarget, dir, e.Name())
	}
	return nil
}

func restoreSQLite(ctx context.Context, cfg RestoreConfig, open func() (io.ReadCloser, error)) (err error) {
	created := !exists(cfg.DataDir)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer func() {
		lock.release()
		if err != nil {
			// Leave the target as it was found.
			_ = os.Remove(filepath.Join(cfg.DataDir, LockFile))
			if created {
				_ = os.Remove(cfg.DataDir)
			}
		}
	}()
	final := filepath.Join(cfg.DataDir, DatabaseFile)
	if exists(final) {
		return ErrRestoreTarget
	}
	tmpDir, err := os.MkdirTemp(cfg.DataDir, ".restore-")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, DatabaseFile)
	db, err := sqlite.OpenOptions(tmp, sqlite.Options{Unbatched: true})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	_, err = readDump(open, func(d *backup.DumpReader) error { return db.Load(ctx, d) })
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Closed, the database is whole in its file: SQLite checkpoints the
	// WAL and removes it as the last connection closes.
	for _, side := range []string{"-wal", "-shm"} {
		if exists(tmp + side) {
			return fmt.Errorf("restore: the restored database left its %s file behind", side)
		}
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return syncFile(cfg.DataDir)
}

func restorePostgres(ctx context.Context, cfg RestoreConfig, open func() (io.ReadCloser, error)) error {
	if !IsPostgres(cfg.Store) {
		return errors.New("restore: --store must be a postgres:// or postgresql:// URL")
	}
	db, err := postgres.Open(ctx, cfg.Store, postgres.Options{})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer db.Close()
	_, err = readDump(open, func(d *backup.DumpReader) error { return db.Load(ctx, d) })
	if errors.Is(err, storage.ErrNotEmpty) {
		return fmt.Errorf("%w: %w", ErrRestoreTarget, err)
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// syncFile makes a file, or a directory's entries, durable.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// LoadRootKey returns the root key, for a backup file encrypted under it:
// COFFER_ROOT_KEY's value when envKey is set, else the key file in dataDir,
// which must exist (it is never created here). The caller closes it.
func LoadRootKey(dataDir, envKey string) (*seal.Root, error) {
	path := filepath.Join(dataDir, RootKeyFile)
	if envKey == "" && !exists(path) {
		return nil, fmt.Errorf("no root key: set COFFER_ROOT_KEY, or give the data directory that holds %s", RootKeyFile)
	}
	r, _, err := seal.Load(seal.Config{KeyFile: path, EnvKey: envKey})
	return r, err
}
