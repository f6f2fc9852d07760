package envelope_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/coffer-dev/coffer/internal/envelope"
)

// TestStreamKey: a chunk opens only with its own number and last-chunk
// flag, and the key never prints.
func TestStreamKey(t *testing.T) {
	k, err := envelope.NewStreamKey(bytes.Repeat([]byte{3}, envelope.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ct := k.SealChunk(nil, 7, false, []byte("chunk seven"))
	if len(ct) != len("chunk seven")+envelope.TagSize {
		t.Fatalf("sealed chunk of %d bytes", len(ct))
	}
	pt, err := k.OpenChunk(nil, 7, false, ct)
	if err != nil || string(pt) != "chunk seven" {
		t.Fatalf("open: %q %v", pt, err)
	}
	for _, c := range []struct {
		counter uint64
		last    bool
	}{{6, false}, {8, false}, {7, true}} {
		if _, err := k.OpenChunk(nil, c.counter, c.last, ct); !errors.Is(err, envelope.ErrIntegrity) {
			t.Errorf("opened as chunk %d (last %v): %v", c.counter, c.last, err)
		}
	}
	if _, err := k.OpenChunk(nil, 7, false, ct[:envelope.TagSize-1]); !errors.Is(err, envelope.ErrMalformed) {
		t.Errorf("short chunk: %v", err)
	}
	if _, err := envelope.NewStreamKey(make([]byte, 16)); err == nil {
		t.Error("a 16-byte stream key was accepted")
	}
	if s := fmt.Sprintf("%v %+v %#v %s", k, k, k, k); bytes.Contains([]byte(s), []byte{3, 3}) || !bytes.Contains([]byte(s), []byte("REDACTED")) {
		t.Errorf("a stream key prints %q", s)
	}
}
