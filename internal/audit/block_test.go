package audit_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/storage"
)

// fullRecord has every field set, with bytes that need escaping nowhere.
func fullRecord(seq int64) *coffer.AuditRecord {
	return &coffer.AuditRecord{
		Seq: seq, Time: time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC),
		OrganizationID: "org", PrincipalID: "principal", AccessKey: "SCWAAAAAAAAAAAAAAAAA", CertificateSerial: "0a",
		ProjectID: "project", Dialect: "scaleway", Action: "GET /secret-manager/v1beta1/regions/{region}/secrets/{secret_id}",
		SecretID: "secret", Path: "/a/b", Revision: "latest", Outcome: coffer.AuditError, Status: 412,
		ErrorCode: "EPRECONDITION", RequestID: "req", Source: "192.0.2.1:4242", UserAgent: "ua/1 \x00\xff",
		PrevHash: bytes.Repeat([]byte{7}, audit.HashSize),
	}
}

// TestHashGolden pins the canonical encoding: a change to it would make
// every stored chain fail verification.
func TestHashGolden(t *testing.T) {
	const want = "34e129f8d56ce429fc7a12ddd0388036acaefc4854ebde5e8d75187d39015937"
	if got := hex.EncodeToString(audit.Hash(fullRecord(42))); got != want {
		t.Fatalf("hash of the reference record = %s, want %s", got, want)
	}
}

// TestBlockRoundTrip appends records through a real store and decodes
// them back: field for field, with hashes that match their content and
// bounds that match their times.
func TestBlockRoundTrip(t *testing.T) {
	s := openStore(t)
	var recs []*coffer.AuditRecord
	for i := range 5 {
		r := fullRecord(0)
		r.RequestID = strings.Repeat("r", i*100)
		r.Time = r.Time.Add(time.Duration(2-i) * time.Hour) // out of order: bounds are min and max
		recs = append(recs, r)
	}
	if err := s.Update(t.Context(), func(tx storage.Tx) error { return audit.Append(t.Context(), tx, recs) }); err != nil {
		t.Fatal(err)
	}
	var blocks []*storage.AuditBlock
	err := s.View(t.Context(), func(tx storage.Tx) (err error) {
		blocks, err = tx.(storage.AuditTx).ListAuditBlocks(t.Context(), storage.AuditBlockQuery{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 {
		t.Fatalf("%d blocks for one append, want 1", len(blocks))
	}
	b := blocks[0]
	if b.FirstSeq != 1 || b.LastSeq != 5 || !b.MinTime.Equal(recs[4].Time) || !b.MaxTime.Equal(recs[0].Time) {
		t.Errorf("block bounds: %d-%d %v %v", b.FirstSeq, b.LastSeq, b.MinTime, b.MaxTime)
	}
	got, err := audit.DecodeBlock(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Errorf("decoded records (-want +got):\n%s", diff)
	}
	for i, r := range got {
		if !bytes.Equal(audit.Hash(r), r.Hash) {
			t.Errorf("record %d: stored hash does not match its content", i+1)
		}
	}
	if again := audit.EncodeBlock(got); !bytes.Equal(again.Data, b.Data) || again.FirstSeq != 1 || again.LastSeq != 5 {
		t.Error("EncodeBlock of the decoded records differs from the stored block")
	}
}

// TestDecodeBlockMalformed checks that damaged blocks are errors, never
// panics nor silently short.
func TestDecodeBlockMalformed(t *testing.T) {
	good := audit.EncodeBlock([]*coffer.AuditRecord{withHash(fullRecord(1)), withHash(fullRecord(2))}).Data
	for name, data := range map[string][]byte{
		"empty":          nil,
		"magic only":     good[:4],
		"other format":   append([]byte("cab2"), good[4:]...),
		"truncated hash": good[:len(good)-1],
		"trailing byte":  append(bytes.Clone(good), 0),
		"huge length":    append([]byte("cab1"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"short body":     append([]byte("cab1\x03abc"), make([]byte, audit.HashSize)...),
	} {
		if recs, err := audit.DecodeBlock(&storage.AuditBlock{Data: data}); err == nil {
			t.Errorf("%s: decoded %d records, want an error", name, len(recs))
		}
	}
}

func withHash(r *coffer.AuditRecord) *coffer.AuditRecord {
	r.Hash = audit.Hash(r)
	return r
}

// FuzzDecodeBlock checks that any bytes decode without panicking, and that
// what decodes encodes back to the same bytes: the encoding is canonical,
// so one stored form has one meaning.
func FuzzDecodeBlock(f *testing.F) {
	f.Add(audit.EncodeBlock([]*coffer.AuditRecord{withHash(fullRecord(1))}).Data)
	f.Add(audit.EncodeBlock([]*coffer.AuditRecord{withHash(fullRecord(1)), withHash(fullRecord(2))}).Data)
	f.Add([]byte("cab1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := audit.DecodeBlock(&storage.AuditBlock{Data: data})
		if err != nil {
			return
		}
		if again := audit.EncodeBlock(recs).Data; !bytes.Equal(again, data) {
			t.Fatalf("decode then encode changed the block:\n%x\n%x", data, again)
		}
	})
}

// TestDecodeBlockNonMinimalLength checks that a length not written in its
// shortest form is refused: one block, one encoding.
func TestDecodeBlockNonMinimalLength(t *testing.T) {
	good := audit.EncodeBlock([]*coffer.AuditRecord{withHash(fullRecord(1))}).Data
	n, k := binary.Uvarint(good[4:])
	long := append([]byte("cab1"), byte(n)|0x80, byte(n>>7)|0x80, 0x00)
	long = append(long, good[4+k:]...)
	if _, err := audit.DecodeBlock(&storage.AuditBlock{Data: long}); err == nil {
		t.Fatal("a length in a longer form than needed decoded")
	}
}
