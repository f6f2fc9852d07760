//go:build !unix

package seal

import (
	"io/fs"
	"os"
)

// oNoFollow is not available here; checkFile's Lstat still refuses a link.
const oNoFollow = 0

// openNoFollow opens path for reading.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}

// checkOwner does nothing on systems without Unix permission bits (Windows
// reports every file as 0666 or 0444): protect the key file with the
// system's access control lists, or use COFFER_ROOT_KEY.
func checkOwner(string, fs.FileInfo) error { return nil }

// syncDir does nothing: directories cannot be synced here.
func syncDir(string) error { return nil }
