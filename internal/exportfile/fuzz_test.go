package exportfile_test

import (
	"bytes"
	"crypto/ecdh"
	"testing"

	"github.com/coffer-dev/coffer/internal/exportfile"
)

// fuzzKey is a fixed X25519 key, so that seeds made with it open.
func fuzzKey(t testing.TB) *ecdh.PrivateKey {
	k, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzReadFile parses any bytes as an export file and reads its frames:
// no input makes it panic or read past its limits.
func FuzzReadFile(f *testing.F) {
	priv := fuzzKey(f)
	seed := func(fs ...string) {
		var buf bytes.Buffer
		w, err := exportfile.NewX25519Writer(&buf, priv.PublicKey().Bytes())
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range fs {
			if err := w.WriteFrame([]byte(s)); err != nil {
				f.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	seed()
	seed(`{"kind":"manifest","manifest":{"format":1}}`, `{"kind":"end","end":{"secrets":0,"versions":0}}`)
	seed(`{"kind":"secret","secret":{"id":"x","versions":1}}`, `{"kind":"version","version":{"revision":1,"data":"aGk="}}`)
	f.Add([]byte("COFFEREXPORT\x01\x02" + string(bytes.Repeat([]byte{1}, 120))))
	f.Add([]byte("COFFEREXPORT\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.NewReader(b)
		h, err := exportfile.ReadHeader(in)
		if err != nil {
			return
		}
		if h.Kind != exportfile.KindX25519 {
			return
		}
		r, err := h.OpenX25519(in, priv)
		if err != nil {
			return
		}
		defer r.Close()
		for {
			fr, err := r.ReadFrame()
			if err != nil {
				return
			}
			if len(fr) > exportfile.MaxFrame {
				t.Fatalf("a frame of %d bytes", len(fr))
			}
			_, _ = exportfile.DecodeFrame(fr)
		}
	})
}

// FuzzDecodeFrame decodes any bytes as a frame.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte(`{"kind":"secret","secret":{"id":"x","stages":{"active":1}}}`))
	f.Add([]byte(`{"kind":"version","version":{"revision":1,"state":"destroyed"}}`))
	f.Add([]byte(`{"kind":"end","end":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := exportfile.DecodeFrame(b)
		if err == nil && fr == nil {
			t.Fatal("no frame and no error")
		}
	})
}
