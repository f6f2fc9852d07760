package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// maxFileSize bounds what Load reads from a key file: the key, a line end,
// and room to say that anything longer is not a key file.
const maxFileSize = 128

// loadFile reads the key file at path, or creates it if it does not exist.
// It reports whether it created it.
func loadFile(path string) (*Root, bool, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		r, err := createFile(path)
		if errors.Is(err, fs.ErrExist) {
			// Another process created it between Lstat and create.
			r, err = readFile(path)
			return r, false, err
		}
		return r, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("seal: key file: %w", err)
	}
	if err := checkFile(path, fi); err != nil {
		return nil, false, err
	}
	r, err := readFile(path)
	return r, false, err
}

// readFile reads an existing key file. It checks the file it opened, not
// just the path it looked at, so that a file swapped in between is caught.
func readFile(path string) (*Root, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, fmt.Errorf("seal: open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if err := checkFile(path, fi); err != nil {
		return nil, err
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("seal: key file %s is not a root key file: %d bytes, want the %d characters of one key", path, fi.Size(), encodedSize)
	}

	buf := make([]byte, maxFileSize+1)
	defer clear(buf)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("seal: read key file: %w", err)
	}
	text := buf[:n]
	// One line end is allowed, as editors and `echo` add one.
	text = bytes.TrimSuffix(text, []byte("\n"))
	text = bytes.TrimSuffix(text, []byte("\r"))
	r, err := decodeRoot(text)
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s %s", path, err)
	}
	return r, nil
}

// checkFile refuses a key file that is a link, not a regular file, or that
// others may read or replace.
func checkFile(path string, fi fs.FileInfo) error {
	switch mode := fi.Mode(); {
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("seal: key file %s is a symbolic link; coffer does not follow links to its root key: configure the path of the file itself", path)
	case !mode.IsRegular():
		return fmt.Errorf("seal: key file %s is not a regular file (mode %s)", path, mode)
	}
	return checkOwner(path, fi)
}

// createFile generates a root key and writes it to a new key file at path,
// readable by its owner only, durably: the file and its directory are synced
// before the key is used, so that no data is ever sealed under a key that a
// crash could lose. Returns an error matching fs.ErrExist if the file exists.
func createFile(path string) (r *Root, err error) {
	var raw [KeySize]byte
	defer clear(raw[:])
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails; it crashes the program instead.
	text := make([]byte, encodedSize+1)
	defer clear(text)
	base64.StdEncoding.Encode(text, raw[:])
	text[encodedSize] = '\n'

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("seal: create key file: %w", err)
	}
	defer func() {
		if err != nil {
			// The file is ours (O_EXCL); leave no half-written key behind.
			_ = f.Close()
			_ = os.Remove(path)
		}
	}()
	// The umask can only have removed bits; make the mode exact.
	if err := f.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("seal: create key file: %w", err)
	}
	if _, err := f.Write(text); err != nil {
		return nil, fmt.Errorf("seal: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("seal: sync key file: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("seal: sync key file directory: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("seal: close key file: %w", err)
	}
	return newRoot(raw[:])
}

// CreateKeyFile generates a new root key and writes it to a new key file at
// path, readable by its owner only, durably (the file and its directory are
// synced) before it returns the key: so that nothing is ever sealed under a
// key a crash could lose. It never replaces a file: it returns an error
// matching fs.ErrExist if path exists.
func CreateKeyFile(path string) (*Root, error) { return createFile(path) }

// LoadKeyFile reads an existing key file, with the checks of Load; unlike
// Load it never creates one.
func LoadKeyFile(path string) (*Root, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if err := checkFile(path, fi); err != nil {
		return nil, err
	}
	return readFile(path)
}

// ReplaceKeyFile moves the key file at from over the one at to, atomically,
// and makes the move durable: at every instant one of the two files is at
// to, whole.
func ReplaceKeyFile(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("seal: replace key file: %w", err)
	}
	if err := syncDir(filepath.Dir(to)); err != nil {
		return fmt.Errorf("seal: sync key file directory: %w", err)
	}
	return nil
}

// RemoveKeyFile removes a key file that holds no key in use, durably.
func RemoveKeyFile(path string) error {
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("seal: remove key file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}
