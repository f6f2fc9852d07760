package backup_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"github.com/coffer-dev/coffer/internal/backup"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/google/go-cmp/cmp"
)

func passphrase(t testing.TB, p string) backup.Secret {
	t.Helper()
	s, err := backup.Passphrase([]byte(p))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testRoot wraps keys as seal.Root does, with a key of its own.
type testRoot struct{ k *envelope.Key }

func (r testRoot) Wrap(pt, ad []byte) ([]byte, error)   { return r.k.Seal(pt, ad), nil }
func (r testRoot) Unwrap(ct, ad []byte) ([]byte, error) { return r.k.Open(ct, ad) }

func rootKey(t testing.TB, b byte) backup.Secret {
	t.Helper()
	k, err := envelope.NewKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return backup.RootKey(testRoot{k})
}

// rootHeader is the size of the header of a file under the root key.
const rootHeader = 127

// seal encrypts plaintext into a backup file.
func seal(t testing.TB, s backup.Secret, plaintext []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := backup.NewWriter(&out, s)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes cross the chunk boundaries anywhere.
	for p := plaintext; len(p) > 0; {
		n := min(len(p), 7777)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Size() != int64(out.Len()) {
		t.Fatalf("Size() = %d, wrote %d", w.Size(), out.Len())
	}
	return out.Bytes()
}

func open(file []byte, s backup.Secret) ([]byte, error) {
	r, err := backup.NewReader(bytes.NewReader(file), s)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestFileRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, backup.ChunkSize - 1, backup.ChunkSize, backup.ChunkSize + 1, 3*backup.ChunkSize + 5} {
		plaintext := make([]byte, size)
		_, _ = rand.Read(plaintext)
		for name, s := range map[string]backup.Secret{"root key": rootKey(t, 7)} {
			got, err := open(seal(t, s, plaintext), s)
			if err != nil {
				t.Fatalf("%s, %d bytes: %v", name, size, err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Fatalf("%s, %d bytes: the plaintext differs", name, size)
			}
		}
	}
}

func TestPassphrase(t *testing.T) {
	plaintext := bytes.Repeat([]byte("coffer "), 20000)
	file := seal(t, passphrase(t, "correct horse battery"), plaintext)
	if bytes.Contains(file, []byte("coffer coffer")) {
		t.Fatal("the file holds the plaintext")
	}
	got, err := open(file, passphrase(t, "correct horse battery"))
	if err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("open: %v", err)
	}
	if _, err := open(file, passphrase(t, "correct horse battery!")); !errors.Is(err, backup.ErrWrongKey) {
		t.Fatalf("a wrong passphrase: %v, want ErrWrongKey", err)
	}
	if _, err := open(file, rootKey(t, 1)); !errors.Is(err, backup.ErrWrongKey) {
		t.Fatalf("a root key for a passphrase file: %v, want ErrWrongKey", err)
	}
	if _, err := open(seal(t, rootKey(t, 1), plaintext), passphrase(t, "correct horse battery")); !errors.Is(err, backup.ErrWrongKey) {
		t.Fatalf("a passphrase for a root key file: %v, want ErrWrongKey", err)
	}
	if _, err := backup.Passphrase([]byte("short")); err == nil {
		t.Fatal("a 5-byte passphrase was taken")
	}
}

func TestFileRefusesDamage(t *testing.T) {
	s := rootKey(t, 3)
	plaintext := make([]byte, 2*backup.ChunkSize+100)
	_, _ = rand.Read(plaintext)
	file := seal(t, s, plaintext)
	if _, err := open(file, rootKey(t, 4)); !errors.Is(err, backup.ErrWrongKey) {
		t.Fatalf("another root key: %v, want ErrWrongKey", err)
	}
	// Every truncation is refused: inside the header, a length, a chunk,
	// and exactly at a chunk's end.
	for _, n := range []int{0, 10, 66, 67, 99, rootHeader - 1, rootHeader, rootHeader + 2, rootHeader + 4, 1000, backup.ChunkSize + rootHeader + 4 + 28, len(file) - 1} {
		_, err := open(file[:n], s)
		if err == nil {
			t.Fatalf("a file cut at %d of %d bytes opened", n, len(file))
		}
		if !errors.Is(err, backup.ErrCorrupt) && !errors.Is(err, backup.ErrNotBackup) {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
	if _, err := open(append(bytes.Clone(file), 0), s); !errors.Is(err, backup.ErrCorrupt) {
		t.Fatalf("a byte appended: %v, want ErrCorrupt", err)
	}
	// A flipped bit anywhere is refused.
	for _, i := range []int{0, 9, 20, 40, 66, 67, 70, 100, rootHeader - 1, rootHeader, rootHeader + 5, 70000, len(file) - 1} {
		bad := bytes.Clone(file)
		bad[i] ^= 0x10
		if _, err := open(bad, s); err == nil {
			t.Fatalf("a bit flipped at %d: the file opened", i)
		}
	}
	// Chunks swapped: both full-size, so only their index tells them apart.
	chunk := 4 + backup.ChunkSize + 28
	swapped := bytes.Clone(file)
	copy(swapped[rootHeader:], file[rootHeader+chunk:rootHeader+2*chunk])
	copy(swapped[rootHeader+chunk:], file[rootHeader:rootHeader+chunk])
	if _, err := open(swapped, s); !errors.Is(err, backup.ErrCorrupt) {
		t.Fatalf("swapped chunks: %v, want ErrCorrupt", err)
	}
	// A chunk dropped.
	dropped := append(bytes.Clone(file[:rootHeader]), file[rootHeader+chunk:]...)
	if _, err := open(dropped, s); !errors.Is(err, backup.ErrCorrupt) {
		t.Fatalf("a dropped chunk: %v, want ErrCorrupt", err)
	}
}

// sampleDump is a dump of two tables with every kind of value.
func sampleDump(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	d := backup.NewDumpWriter(&buf)
	steps := []error{
		d.Begin("sqlite", 11),
		d.Table("meta", []string{"name", "value"}),
		d.Row([]any{"a", []byte{1, 2, 3}}),
		d.Row([]any{"b", []byte{}}),
		d.Table("projects", []string{"id", "n", "flag", "f", "none"}),
		d.Row([]any{"p1", int64(-5), true, 1.5, nil}),
		d.Row([]any{"p2", int32(7), false, 0.0, nil}),
		d.Table("empty", []string{"x"}),
		d.End(),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

type table struct {
	Name    string
	Columns []string
	Rows    [][]any
}

// readDump reads every table of a dump.
func readDump(b []byte) (backup.Header, []table, error) {
	d, err := backup.NewDumpReader(bytes.NewReader(b))
	if err != nil {
		return backup.Header{}, nil, err
	}
	var out []table
	for {
		name, cols, err := d.NextTable()
		if errors.Is(err, io.EOF) && d.Complete() {
			return d.Header(), out, nil
		}
		if err != nil {
			return backup.Header{}, nil, err
		}
		tb := table{Name: name, Columns: cols}
		for {
			row, err := d.NextRow()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return backup.Header{}, nil, err
			}
			tb.Rows = append(tb.Rows, row)
		}
		out = append(out, tb)
	}
}

func TestDumpRoundTrip(t *testing.T) {
	h, tables, err := readDump(sampleDump(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.Backend != "sqlite" || h.Schema != 11 || h.Created.IsZero() {
		t.Fatalf("header %+v", h)
	}
	want := []table{
		{"meta", []string{"name", "value"}, [][]any{{"a", []byte{1, 2, 3}}, {"b", []byte{}}}},
		{"projects", []string{"id", "n", "flag", "f", "none"}, [][]any{{"p1", int64(-5), true, 1.5, nil}, {"p2", int64(7), false, 0.0, nil}}},
		{"empty", []string{"x"}, nil},
	}
	if diff := cmp.Diff(want, tables); diff != "" {
		t.Fatalf("tables (-want +got):\n%s", diff)
	}
}

func TestDumpRefusesDamage(t *testing.T) {
	good := sampleDump(t)
	for n := 0; n < len(good); n++ {
		if _, _, err := readDump(good[:n]); err == nil {
			t.Fatalf("a dump cut at %d of %d bytes was read whole", n, len(good))
		}
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x01
		if _, _, err := readDump(bad); err == nil {
			t.Fatalf("a bit flipped at %d: the dump was read whole", i)
		}
	}
	if _, _, err := readDump(append(bytes.Clone(good), 0)); err == nil {
		t.Fatal("a byte appended: the dump was read whole")
	}
}

func TestDumpRowsCanBeSkipped(t *testing.T) {
	d, err := backup.NewDumpReader(bytes.NewReader(sampleDump(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(); err != nil {
		t.Fatal(err)
	}
	if tables, rows := d.Counts(); tables != 3 || rows != 4 {
		t.Fatalf("counts %d, %d", tables, rows)
	}
}
