package envelope_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer/internal/envelope"
)

// fixedKey returns a key made from a constant, so that the fuzzer's corpus
// stays meaningful across runs.
func fixedKey(t testing.TB, b byte) *envelope.Key {
	t.Helper()
	k, err := envelope.NewKey(bytes.Repeat([]byte{b}, envelope.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzOpenData feeds arbitrary ciphertexts and associated data to every
// function that reads a ciphertext. None may panic; each must fail with
// ErrMalformed or ErrIntegrity unless given exactly the format 1 vector,
// the one valid ciphertext under its key. (Seeds are constants: the fuzzer
// runs this function in several processes, which must agree on them.)
func FuzzOpenData(f *testing.F) {
	kek, seedCT, seedAD := vector(f)
	newKEK := fixedKey(f, 2)
	f.Add(seedCT, seedAD)
	f.Add(seedCT, []byte(nil))
	f.Add(seedCT[:envelope.DataOverhead], seedAD)
	f.Add(seedCT[:envelope.DataOverhead-1], seedAD)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{envelope.FormatV1}, []byte("x"))

	f.Fuzz(func(t *testing.T, ct, ad []byte) {
		isValid := bytes.Equal(ct, seedCT) && bytes.Equal(ad, seedAD)
		want := []byte(vectorPT)

		pt, err := envelope.OpenData(kek, ct, ad)
		switch {
		case err == nil && !isValid:
			t.Fatalf("OpenData accepted a ciphertext it did not seal")
		case err == nil && !bytes.Equal(pt, want):
			t.Fatalf("OpenData(seed) = %q, want %q", pt, want)
		case err != nil && isValid:
			t.Fatalf("OpenData(seed): %v", err)
		case err != nil && !isOpenError(err):
			t.Fatalf("OpenData: unexpected error %v", err)
		}

		re, err := envelope.Rewrap(ct, kek, newKEK, otherID, 2, ad)
		if err != nil && !isOpenError(err) {
			t.Fatalf("Rewrap: unexpected error %v", err)
		}
		if err == nil {
			got, openErr := envelope.OpenData(newKEK, re, ad)
			if (openErr == nil) != isValid {
				t.Fatalf("OpenData(rewrapped): err = %v, valid = %v", openErr, isValid)
			}
			if openErr == nil && !bytes.Equal(got, want) {
				t.Fatalf("OpenData(rewrapped) = %q, want %q", got, want)
			}
		}

		if _, err := kek.Open(ct, ad); err == nil {
			t.Fatalf("Key.Open accepted a ciphertext it did not seal")
		} else if !isOpenError(err) {
			t.Fatalf("Key.Open: unexpected error %v", err)
		}
	})
}

// FuzzParseHeader checks that ParseHeader never panics and that whatever it
// accepts is a well-formed header that it decodes faithfully.
func FuzzParseHeader(f *testing.F) {
	kek := fixedKey(f, 1)
	seed := mustSeal(f, kek, kekID, 7, []byte("x"), nil)
	f.Add(seed)
	f.Add(seed[:envelope.DataOverhead])
	f.Add(seed[:21])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, envelope.DataOverhead))

	f.Fuzz(func(t *testing.T, ct []byte) {
		id, version, err := envelope.ParseHeader(ct)
		if err != nil {
			if !isOpenError(err) || id != "" || version != 0 {
				t.Fatalf("ParseHeader = %q, %d, %v", id, version, err)
			}
			return
		}
		if len(ct) < envelope.DataOverhead || ct[0] != envelope.FormatV1 || version == 0 {
			t.Fatalf("ParseHeader accepted %d bytes, format %d, version %d", len(ct), ct[0], version)
		}
		u, err := uuid.Parse(id)
		if err != nil || u.String() != id || !bytes.Equal(u[:], ct[1:17]) {
			t.Fatalf("ParseHeader id %q does not round-trip: %v", id, err)
		}
		if binary.BigEndian.Uint32(ct[17:21]) != version {
			t.Fatalf("ParseHeader version %d does not match the bytes", version)
		}
	})
}

// FuzzVersionAD checks that VersionAD is injective: two rows share associated
// data only if they are the same row.
func FuzzVersionAD(f *testing.F) {
	f.Add("ab", "c", uint32(1), "a", "bc", uint32(1))
	f.Add("", "", uint32(0), "", "", uint32(0))
	f.Add(project, secretID, uint32(3), project, secretID, uint32(4))
	f.Fuzz(func(t *testing.T, p1, s1 string, r1 uint32, p2, s2 string, r2 uint32) {
		same := p1 == p2 && s1 == s2 && r1 == r2
		if bytes.Equal(envelope.VersionAD(p1, s1, r1), envelope.VersionAD(p2, s2, r2)) != same {
			t.Fatalf("VersionAD(%q, %q, %d) vs (%q, %q, %d): equal = %v", p1, s1, r1, p2, s2, r2, !same)
		}
	})
}
