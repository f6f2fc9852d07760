package envelope_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
)

const (
	kekID    = "6f1c1b52-7c1e-4b8e-9a55-0d1c8e2f4a10"
	otherID  = "0b9e8a4c-1d2f-4e3a-8b7c-6d5e4f3a2b1c"
	project  = "2d8f5a1e-3b4c-4d6e-8f9a-0b1c2d3e4f50"
	secretID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
)

func newKey(t testing.TB) *envelope.Key {
	t.Helper()
	raw := make([]byte, envelope.KeySize)
	_, _ = rand.Read(raw)
	k, err := envelope.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSeal(t testing.TB, kek *envelope.Key, id string, version uint32, plaintext, ad []byte) []byte {
	t.Helper()
	ct, err := envelope.SealData(kek, id, version, plaintext, ad)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

// isOpenError reports whether err is one of the two errors a ciphertext that
// does not open may give.
func isOpenError(err error) bool {
	return errors.Is(err, envelope.ErrIntegrity) || errors.Is(err, envelope.ErrMalformed)
}

func TestNewKeyLength(t *testing.T) {
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		if _, err := envelope.NewKey(make([]byte, n)); err == nil {
			t.Errorf("NewKey(%d bytes) succeeded, want an error", n)
		}
	}
	if _, err := envelope.NewKey(make([]byte, 32)); err != nil {
		t.Errorf("NewKey(32 bytes): %v", err)
	}
}

func TestKeySealOpen(t *testing.T) {
	k := newKey(t)
	ad := []byte("ad")
	for _, n := range []int{0, 1, 15, 16, 17, 1024} {
		pt := bytes.Repeat([]byte{'x'}, n)
		ct := k.Seal(pt, ad)
		if got, want := len(ct), n+envelope.Overhead; got != want {
			t.Fatalf("len(Seal(%d bytes)) = %d, want %d", n, got, want)
		}
		got, err := k.Open(ct, ad)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, want %q", got, pt)
		}
	}
}

func TestKeySealDiffers(t *testing.T) {
	k := newKey(t)
	a, b := k.Seal([]byte("same"), nil), k.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one plaintext are equal")
	}
}

func TestKeyOpenFails(t *testing.T) {
	k := newKey(t)
	ad := []byte("ad")
	ct := k.Seal([]byte("plaintext"), ad)

	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if _, err := k.Open(bad, ad); !errors.Is(err, envelope.ErrIntegrity) {
			t.Fatalf("Open with byte %d flipped: err = %v, want ErrIntegrity", i, err)
		}
	}
	if _, err := k.Open(ct, []byte("other")); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Open with another ad: err = %v, want ErrIntegrity", err)
	}
	if _, err := k.Open(ct, nil); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Open without ad: err = %v, want ErrIntegrity", err)
	}
	if _, err := newKey(t).Open(ct, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Open with another key: err = %v, want ErrIntegrity", err)
	}
	for _, n := range []int{0, 1, envelope.Overhead - 1} {
		if _, err := k.Open(ct[:n], ad); !errors.Is(err, envelope.ErrMalformed) {
			t.Errorf("Open(%d bytes): err = %v, want ErrMalformed", n, err)
		}
	}
	if _, err := k.Open(ct[:envelope.Overhead], ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Open(truncated to overhead): err = %v, want ErrIntegrity", err)
	}
}

func TestSealDataRoundTrip(t *testing.T) {
	kek := newKey(t)
	ad := envelope.VersionAD(project, secretID, 3)
	for _, n := range []int{0, 1, 1024, coffer.MaxPayloadSize} {
		pt := make([]byte, n)
		_, _ = rand.Read(pt)
		ct := mustSeal(t, kek, kekID, 7, pt, ad)
		if got, want := len(ct), n+envelope.DataOverhead; got != want {
			t.Fatalf("len(SealData(%d bytes)) = %d, want %d", n, got, want)
		}
		if ct[0] != envelope.FormatV1 {
			t.Fatalf("format byte = %d, want %d", ct[0], envelope.FormatV1)
		}
		id, v, err := envelope.ParseHeader(ct)
		if err != nil {
			t.Fatalf("ParseHeader: %v", err)
		}
		if id != kekID || v != 7 {
			t.Fatalf("ParseHeader = %s, %d; want %s, 7", id, v, kekID)
		}
		got, err := envelope.OpenData(kek, ct, ad)
		if err != nil {
			t.Fatalf("OpenData: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("OpenData returned other bytes (%d, want %d)", len(got), len(pt))
		}
	}
}

func TestSealDataDiffers(t *testing.T) {
	kek := newKey(t)
	ad := envelope.VersionAD(project, secretID, 1)
	a := mustSeal(t, kek, kekID, 1, []byte("same"), ad)
	b := mustSeal(t, kek, kekID, 1, []byte("same"), ad)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one plaintext are equal")
	}
	// The header is the same; the wrapped key and the data must both differ.
	const headerSize, dataOffset = 21, 81
	if bytes.Equal(a[headerSize:dataOffset], b[headerSize:dataOffset]) {
		t.Error("two seals share a wrapped data key")
	}
	if bytes.Equal(a[dataOffset:], b[dataOffset:]) {
		t.Error("two seals share a data part")
	}
}

func TestSealDataBadKeyReference(t *testing.T) {
	kek := newKey(t)
	for _, tt := range []struct {
		id      string
		version uint32
	}{
		{"", 1},
		{"not-a-uuid", 1},
		{strings.ToUpper(kekID), 1},
		{"{" + kekID + "}", 1},
		{"urn:uuid:" + kekID, 1},
		{kekID, 0},
	} {
		if _, err := envelope.SealData(kek, tt.id, tt.version, []byte("x"), nil); err == nil {
			t.Errorf("SealData(id %q, version %d) succeeded, want an error", tt.id, tt.version)
		}
		old := mustSeal(t, kek, kekID, 1, []byte("x"), nil)
		if _, err := envelope.Rewrap(old, kek, kek, tt.id, tt.version, nil); err == nil {
			t.Errorf("Rewrap(id %q, version %d) succeeded, want an error", tt.id, tt.version)
		}
	}
}

func TestOpenDataTamperedByte(t *testing.T) {
	kek := newKey(t)
	ad := envelope.VersionAD(project, secretID, 1)
	// Version 5: no single flip below makes it 0, which is malformed.
	ct := mustSeal(t, kek, kekID, 5, []byte("the value"), ad)
	for i := range ct {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(ct)
			bad[i] ^= mask
			_, err := envelope.OpenData(kek, bad, ad)
			if i == 0 {
				if !errors.Is(err, envelope.ErrMalformed) {
					t.Fatalf("format byte ^%#x: err = %v, want ErrMalformed", mask, err)
				}
				continue
			}
			if !errors.Is(err, envelope.ErrIntegrity) {
				t.Fatalf("byte %d ^%#x: err = %v, want ErrIntegrity", i, mask, err)
			}
		}
	}
}

func TestOpenDataTruncatedOrExtended(t *testing.T) {
	kek := newKey(t)
	ad := envelope.VersionAD(project, secretID, 1)
	ct := mustSeal(t, kek, kekID, 1, []byte("the value"), ad)
	for n := range len(ct) {
		_, err := envelope.OpenData(kek, ct[:n], ad)
		if n < envelope.DataOverhead {
			if !errors.Is(err, envelope.ErrMalformed) {
				t.Fatalf("OpenData(%d bytes): err = %v, want ErrMalformed", n, err)
			}
			if _, _, err := envelope.ParseHeader(ct[:n]); !errors.Is(err, envelope.ErrMalformed) {
				t.Fatalf("ParseHeader(%d bytes): err = %v, want ErrMalformed", n, err)
			}
			continue
		}
		if !errors.Is(err, envelope.ErrIntegrity) {
			t.Fatalf("OpenData(%d bytes): err = %v, want ErrIntegrity", n, err)
		}
	}
	if _, err := envelope.OpenData(kek, append(bytes.Clone(ct), 0), ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Fatalf("OpenData(extended): err = %v, want ErrIntegrity", err)
	}
}

func TestOpenDataWrongAD(t *testing.T) {
	kek := newKey(t)
	ad := envelope.VersionAD(project, secretID, 2)
	ct := mustSeal(t, kek, kekID, 1, []byte("the value"), ad)
	for name, other := range map[string][]byte{
		"other project":  envelope.VersionAD(otherID, secretID, 2),
		"other secret":   envelope.VersionAD(project, otherID, 2),
		"other revision": envelope.VersionAD(project, secretID, 3),
		"nil":            nil,
		"shifted fields": envelope.VersionAD(project+secretID[:1], secretID[1:], 2),
	} {
		if _, err := envelope.OpenData(kek, ct, other); !errors.Is(err, envelope.ErrIntegrity) {
			t.Errorf("%s: err = %v, want ErrIntegrity", name, err)
		}
	}
}

func TestOpenDataWrongKEK(t *testing.T) {
	kek := newKey(t)
	ad := envelope.VersionAD(project, secretID, 1)
	ct := mustSeal(t, kek, kekID, 1, []byte("the value"), ad)
	if _, err := envelope.OpenData(newKey(t), ct, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Fatalf("err = %v, want ErrIntegrity", err)
	}
}

// TestOpenDataSwappedParts checks that the data part of one ciphertext does
// not open with the wrapped key of another, even under one KEK and one ad.
func TestOpenDataSwappedParts(t *testing.T) {
	kek := newKey(t)
	ad := envelope.VersionAD(project, secretID, 1)
	a := mustSeal(t, kek, kekID, 1, []byte("value a"), ad)
	b := mustSeal(t, kek, kekID, 1, []byte("value b"), ad)
	const dataOffset = 81
	mixed := append(bytes.Clone(a[:dataOffset]), b[dataOffset:]...)
	if _, err := envelope.OpenData(kek, mixed, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Fatalf("err = %v, want ErrIntegrity", err)
	}
}

func TestRewrap(t *testing.T) {
	oldKEK, newKEK := newKey(t), newKey(t)
	ad := envelope.VersionAD(project, secretID, 4)
	pt := []byte("the value")
	ct := mustSeal(t, oldKEK, kekID, 1, pt, ad)

	re, err := envelope.Rewrap(ct, oldKEK, newKEK, kekID, 2, ad)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if id, v, err := envelope.ParseHeader(re); err != nil || id != kekID || v != 2 {
		t.Fatalf("ParseHeader(rewrapped) = %s, %d, %v; want %s, 2, nil", id, v, err, kekID)
	}
	const dataOffset = 81
	if !bytes.Equal(re[dataOffset:], ct[dataOffset:]) {
		t.Fatal("Rewrap changed the data part")
	}
	if bytes.Equal(re[:dataOffset], ct[:dataOffset]) {
		t.Fatal("Rewrap did not change the wrapped key")
	}
	got, err := envelope.OpenData(newKEK, re, ad)
	if err != nil {
		t.Fatalf("OpenData(rewrapped, new KEK): %v", err)
	}
	if !bytes.Equal(got, pt) {
		t.Fatalf("OpenData(rewrapped) = %q, want %q", got, pt)
	}
	if _, err := envelope.OpenData(oldKEK, re, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Fatalf("OpenData(rewrapped, old KEK): err = %v, want ErrIntegrity", err)
	}
	if _, err := envelope.OpenData(newKEK, re, envelope.VersionAD(project, secretID, 5)); !errors.Is(err, envelope.ErrIntegrity) {
		t.Fatalf("OpenData(rewrapped, other ad): err = %v, want ErrIntegrity", err)
	}

	// Moving to another KEK id works the same.
	moved, err := envelope.Rewrap(re, newKEK, oldKEK, otherID, 9, ad)
	if err != nil {
		t.Fatalf("Rewrap to another key: %v", err)
	}
	if id, v, _ := envelope.ParseHeader(moved); id != otherID || v != 9 {
		t.Fatalf("ParseHeader(moved) = %s, %d; want %s, 9", id, v, otherID)
	}
	if got, err := envelope.OpenData(oldKEK, moved, ad); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("OpenData(moved) = %q, %v", got, err)
	}
}

func TestRewrapFails(t *testing.T) {
	oldKEK, newKEK := newKey(t), newKey(t)
	ad := envelope.VersionAD(project, secretID, 4)
	ct := mustSeal(t, oldKEK, kekID, 1, []byte("the value"), ad)

	if _, err := envelope.Rewrap(ct, newKEK, newKEK, kekID, 2, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Rewrap with the wrong old KEK: err = %v, want ErrIntegrity", err)
	}
	if _, err := envelope.Rewrap(ct, oldKEK, newKEK, kekID, 2, nil); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Rewrap with the wrong ad: err = %v, want ErrIntegrity", err)
	}
	if _, err := envelope.Rewrap(ct[:envelope.DataOverhead-1], oldKEK, newKEK, kekID, 2, ad); !errors.Is(err, envelope.ErrMalformed) {
		t.Errorf("Rewrap of a truncated ciphertext: err = %v, want ErrMalformed", err)
	}
	// A tampered header is caught by the wrapped key's authentication.
	bad := bytes.Clone(ct)
	bad[20] ^= 0x02
	if _, err := envelope.Rewrap(bad, oldKEK, newKEK, kekID, 2, ad); !errors.Is(err, envelope.ErrIntegrity) {
		t.Errorf("Rewrap with a tampered header: err = %v, want ErrIntegrity", err)
	}
}

func TestParseHeaderMalformed(t *testing.T) {
	kek := newKey(t)
	ct := mustSeal(t, kek, kekID, 1, nil, nil)

	bad := bytes.Clone(ct)
	bad[0] = 2
	if _, _, err := envelope.ParseHeader(bad); !errors.Is(err, envelope.ErrMalformed) {
		t.Errorf("format 2: err = %v, want ErrMalformed", err)
	}
	bad = bytes.Clone(ct)
	clear(bad[17:21])
	if _, _, err := envelope.ParseHeader(bad); !errors.Is(err, envelope.ErrMalformed) {
		t.Errorf("version 0: err = %v, want ErrMalformed", err)
	}
	if _, _, err := envelope.ParseHeader(nil); !errors.Is(err, envelope.ErrMalformed) {
		t.Errorf("nil: err = %v, want ErrMalformed", err)
	}
}

// A ciphertext made once by format 1 and what it opens to. Data written by
// earlier releases must keep opening: never regenerate it.
const (
	vectorKEK = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	vectorCT  = "016f1c1b527c1e4b8e9a550d1c8e2f4a1000000003e2ed970f5e946ee71cb12e23cc3c21fc4bb31df037274a4ef3c404210b26c267790ce120b540e8eb8e6ce453cbaaa7bff26c3c017082ea4ddce8475f986363a1319610ea6422144536b57e54be25407e1048ce2579ab857452fe46a1d038e5d3dd1e55867dc1df5f3b5955a2"
	vectorPT  = "format 1 test vector"
)

// vector returns the format 1 vector: its KEK, ciphertext and ad.
func vector(t testing.TB) (kek *envelope.Key, ct, ad []byte) {
	t.Helper()
	raw, err := hex.DecodeString(vectorKEK)
	if err != nil {
		t.Fatal(err)
	}
	if kek, err = envelope.NewKey(raw); err != nil {
		t.Fatal(err)
	}
	if ct, err = hex.DecodeString(vectorCT); err != nil {
		t.Fatal(err)
	}
	return kek, ct, envelope.VersionAD(project, secretID, 42)
}

func TestFormatV1Vector(t *testing.T) {
	kek, ct, ad := vector(t)
	id, v, err := envelope.ParseHeader(ct)
	if err != nil || id != kekID || v != 3 {
		t.Fatalf("ParseHeader = %s, %d, %v; want %s, 3, nil", id, v, err, kekID)
	}
	got, err := envelope.OpenData(kek, ct, ad)
	if err != nil {
		t.Fatalf("OpenData: %v", err)
	}
	if string(got) != vectorPT {
		t.Fatalf("OpenData = %q, want %q", got, vectorPT)
	}
}

func TestVersionAD(t *testing.T) {
	base := envelope.VersionAD("ab", "c", 1)
	for name, other := range map[string][]byte{
		"shifted boundary": envelope.VersionAD("a", "bc", 1),
		"swapped":          envelope.VersionAD("c", "ab", 1),
		"revision":         envelope.VersionAD("ab", "c", 2),
		"revision bytes":   envelope.VersionAD("ab", "c", 1<<24),
		"empty project":    envelope.VersionAD("", "abc", 1),
	} {
		if bytes.Equal(base, other) {
			t.Errorf("%s: VersionAD collides", name)
		}
	}
	if !bytes.Equal(base, envelope.VersionAD("ab", "c", 1)) {
		t.Error("VersionAD is not deterministic")
	}
	if bytes.Equal(envelope.AD("p", []byte("a"), nil), envelope.AD("p", []byte("a"))) {
		t.Error("AD ignores an empty trailing field")
	}
	if bytes.Equal(envelope.AD("p", []byte("a")), envelope.AD("pa")) {
		t.Error("AD collides across purpose and field")
	}
}

func TestKeyRedacted(t *testing.T) {
	k := newKey(t)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("msg", "key", k)
	for _, s := range []string{
		k.String(), k.GoString(), fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x", k, k, k, k, k, k),
		fmt.Sprintf("%+v", struct{ K *envelope.Key }{k}), logged.String(),
	} {
		if strings.Contains(s, "0x") || !strings.Contains(s, coffer.Redacted) {
			t.Errorf("printed key = %q, want only %q", s, coffer.Redacted)
		}
	}
}

func BenchmarkSealData1KiB(b *testing.B) {
	kek := newKey(b)
	ad := envelope.VersionAD(project, secretID, 1)
	pt := make([]byte, 1024)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.SealData(kek, kekID, 1, pt, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenData1KiB(b *testing.B) {
	kek := newKey(b)
	ad := envelope.VersionAD(project, secretID, 1)
	ct := mustSeal(b, kek, kekID, 1, make([]byte, 1024), ad)
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.OpenData(kek, ct, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRewrap(b *testing.B) {
	oldKEK, newKEK := newKey(b), newKey(b)
	ad := envelope.VersionAD(project, secretID, 1)
	ct := mustSeal(b, oldKEK, kekID, 1, make([]byte, 1024), ad)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.Rewrap(ct, oldKEK, newKEK, kekID, 2, ad); err != nil {
			b.Fatal(err)
		}
	}
}
