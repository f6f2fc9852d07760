//go:build unix

package node

import (
	"errors"
	"os"
	"syscall"
)

// errLocked means another open file holds the lock.
var errLocked = errors.New("locked")

// canLock is set where lockFile takes a real lock.
const canLock = true

// lockFile takes an exclusive flock of f without waiting. flock locks
// belong to the open file, so a second open in the same process is refused
// too, as a second process is.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
