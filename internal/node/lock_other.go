//go:build !unix

package node

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// canLock is unset where the data directory cannot be locked: a SQLite
// node then runs without its read cache.
const canLock = false

func lockFile(*os.File) error { return nil }
