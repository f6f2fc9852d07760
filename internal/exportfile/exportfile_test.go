package exportfile_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/exportfile"
)

// headerX25519 is the size of the header of a file encrypted to an X25519
// key.
const headerX25519 = 12 + 2 + 16 + 32 + 60

// testKDF are the cheapest costs the format accepts.
var testKDF = exportfile.KDF{Time: 1, Memory: 8 << 10, Threads: 1}

// frames returns n frames of various sizes, some spanning chunks.
func frames(n int) [][]byte {
	var out [][]byte
	for i := range n {
		b := bytes.Repeat([]byte{byte('a' + i%26)}, (i*7919)%(3*exportfile.ChunkSize/2)+i%3)
		out = append(out, b)
	}
	return out
}

func writeX25519(t *testing.T, pub []byte, fs [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := exportfile.NewX25519Writer(&buf, pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sameFrames(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func readAll(r *exportfile.Reader) ([][]byte, error) {
	var out [][]byte
	for {
		f, err := r.ReadFrame()
		if err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, err
		}
		out = append(out, f)
	}
}

func openX25519(file []byte, priv *ecdh.PrivateKey) ([][]byte, error) {
	in := bytes.NewReader(file)
	h, err := exportfile.ReadHeader(in)
	if err != nil {
		return nil, err
	}
	r, err := h.OpenX25519(in, priv)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readAll(r)
}

func TestRoundTripX25519(t *testing.T) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 5, 40} {
		fs := frames(n)
		file := writeX25519(t, priv.PublicKey().Bytes(), fs)
		got, err := openX25519(file, priv)
		if err != nil {
			t.Fatalf("%d frames: %v", n, err)
		}
		if !sameFrames(fs, got) {
			t.Fatalf("%d frames: read back differently", n)
		}
	}
}

func TestRoundTripPassphrase(t *testing.T) {
	p, err := exportfile.NewPassphrase([]byte("correct horse battery staple"), testKDF)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := exportfile.NewPassphraseWriter(&buf, p)
	if err != nil {
		t.Fatal(err)
	}
	fs := frames(9)
	for _, f := range fs {
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	open := func(passphrase string) ([][]byte, error) {
		in := bytes.NewReader(buf.Bytes())
		h, err := exportfile.ReadHeader(in)
		if err != nil {
			return nil, err
		}
		if h.Kind != exportfile.KindPassphrase || h.KDF != testKDF {
			t.Fatalf("header kind %d, costs %+v", h.Kind, h.KDF)
		}
		k, err := exportfile.DerivePassphrase([]byte(passphrase), h.Salt, h.KDF)
		if err != nil {
			return nil, err
		}
		defer k.Wipe()
		r, err := h.OpenPassphrase(in, k.Key)
		if err != nil {
			return nil, err
		}
		return readAll(r)
	}
	got, err := open("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !sameFrames(fs, got) {
		t.Fatal("read back differently")
	}
	if _, err := open("correct horse battery stapler"); !errors.Is(err, exportfile.ErrWrongKey) {
		t.Fatalf("wrong passphrase: %v, want ErrWrongKey", err)
	}
}

func TestWrongRecipient(t *testing.T) {
	a, _ := ecdh.X25519().GenerateKey(rand.Reader)
	b, _ := ecdh.X25519().GenerateKey(rand.Reader)
	file := writeX25519(t, a.PublicKey().Bytes(), frames(2))
	if _, err := openX25519(file, b); !errors.Is(err, exportfile.ErrWrongKey) {
		t.Fatalf("other key: %v, want ErrWrongKey", err)
	}
}

// TestTruncated cuts a file at every length: none reads to its end.
func TestTruncated(t *testing.T) {
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	fs := frames(12) // several chunks
	file := writeX25519(t, priv.PublicKey().Bytes(), fs)
	if len(file) < 2*exportfile.ChunkSize {
		t.Fatalf("the file is %d bytes: want several chunks", len(file))
	}
	cuts := []int{0, 10, 100, headerX25519 - 1, headerX25519, headerX25519 + 1}
	for n := exportfile.ChunkSize - 50; n < len(file); n += exportfile.ChunkSize / 3 {
		cuts = append(cuts, n)
	}
	// Every chunk boundary, exactly.
	for n := headerX25519; n < len(file); n += exportfile.ChunkSize + 16 {
		cuts = append(cuts, n)
	}
	cuts = append(cuts, len(file)-1)
	for _, n := range cuts {
		got, err := openX25519(file[:n], priv)
		if err == nil {
			t.Fatalf("cut at %d of %d: read %d frames and no error", n, len(file), len(got))
		}
	}
}

// TestTampered flips one bit in every region of a file: it fails to open.
func TestTampered(t *testing.T) {
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	file := writeX25519(t, priv.PublicKey().Bytes(), frames(12))
	for _, i := range []int{0, 12, 13, 20, 40, 60, 100, headerX25519 - 1, headerX25519, 5000, exportfile.ChunkSize + 200, len(file) - 1} {
		bad := bytes.Clone(file)
		bad[i] ^= 0x10
		if _, err := openX25519(bad, priv); err == nil {
			t.Fatalf("bit flipped at %d: no error", i)
		}
	}
	// Two chunks swapped.
	const first = headerX25519
	size := exportfile.ChunkSize + 16
	bad := bytes.Clone(file)
	copy(bad[first:], file[first+size:first+2*size])
	copy(bad[first+size:], file[first:first+size])
	if _, err := openX25519(bad, priv); !errors.Is(err, exportfile.ErrDamaged) {
		t.Fatalf("chunks swapped: %v, want ErrDamaged", err)
	}
}

func TestNotAnExportFile(t *testing.T) {
	for _, s := range []string{"", "COFFEREXPORT", "COFFEREXPORT\x02\x01" + strings.Repeat("x", 200), "hello world"} {
		if _, err := exportfile.ReadHeader(strings.NewReader(s)); !errors.Is(err, exportfile.ErrFormat) {
			t.Errorf("%q: %v, want ErrFormat", s, err)
		}
	}
}

func TestDecodeFrame(t *testing.T) {
	for _, s := range []string{`{}`, `{"kind":"secret"}`, `{"kind":"other","secret":{}}`, `[`, `null`} {
		if _, err := exportfile.DecodeFrame([]byte(s)); !errors.Is(err, exportfile.ErrDamaged) {
			t.Errorf("%s: %v, want ErrDamaged", s, err)
		}
	}
	f, err := exportfile.DecodeFrame([]byte(`{"kind":"end","end":{"secrets":2,"versions":3}}`))
	if err != nil || f.End.Secrets != 2 || f.End.Versions != 3 {
		t.Fatalf("%+v %v", f, err)
	}
}
