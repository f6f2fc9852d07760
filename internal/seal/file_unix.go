//go:build unix

package seal

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// oNoFollow makes opening a symbolic link fail.
const oNoFollow = syscall.O_NOFOLLOW

// openNoFollow opens path for reading without following a final symbolic
// link.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
}

// checkOwner refuses a key file that the user running coffer does not own or
// that group or others may access, as ssh does for a private key.
func checkOwner(path string, fi fs.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("seal: permissions %#o for key file %s are too open: the root key must be accessible by its owner only; run: chmod 600 %s", perm, path, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := os.Geteuid(); st.Uid != uint32(uid) {
			return fmt.Errorf("seal: key file %s is owned by uid %d, not by uid %d that runs coffer; run: chown %d %s", path, st.Uid, uid, uid, path)
		}
	}
	return nil
}

// syncDir makes a new entry in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
