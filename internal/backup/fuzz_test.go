package backup_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/coffer-dev/coffer/internal/backup"
)

// FuzzDumpReader feeds the dump parser arbitrary bytes: it must return an
// error or the dump, never panic nor allocate beyond the input's lengths.
func FuzzDumpReader(f *testing.F) {
	good := sampleDump(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("COFFERDUMP\x00\x01H"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, tables, err := readDump(b)
		if err == nil && len(tables) > len(b) {
			t.Fatalf("%d tables from %d bytes", len(tables), len(b))
		}
	})
}

// FuzzFileReader feeds the backup file's reader arbitrary bytes under a
// root key (a passphrase file is refused before its key is derived).
func FuzzFileReader(f *testing.F) {
	s := rootKey(f, 9)
	f.Add(seal(f, s, sampleDump(f)))
	f.Add(seal(f, s, nil))
	f.Add(seal(f, s, bytes.Repeat([]byte{1}, backup.ChunkSize+3)))
	f.Add([]byte("COFFERBK\x01\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := backup.NewReader(bytes.NewReader(b), s)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, r)
	})
}
