package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LockFile is the file in the data directory that a node serving a SQLite
// store holds locked.
const LockFile = "coffer.lock"

// ErrDataDirLocked means another process serves the data directory's store.
var ErrDataDirLocked = errors.New("another coffer process serves this data directory")

// dirLock is the lock of a data directory, held while a node serves its
// SQLite store. The node's read cache sees every write made through it, and
// no other: a second process writing the same file would leave it stale, so
// a second node on one data directory is refused rather than allowed
// (docs/architecture.md, "Read cache"). Readers that write nothing, such as
// coffer audit verify --offline, do not take it.
type dirLock struct{ f *os.File }

// lockDataDir takes the lock of dir, or fails with ErrDataDirLocked. The
// operating system releases it when the process ends, however it ends.
func lockDataDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w (%s is locked): stop it first; to run several nodes, share a PostgreSQL database (docs/postgresql.md)", ErrDataDirLocked, path)
		}
		return nil, fmt.Errorf("lock the data directory: %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

// release releases the lock.
func (l *dirLock) release() {
	if l != nil {
		l.f.Close() // closing the file releases its lock
	}
}
