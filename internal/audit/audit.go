// Package audit keeps coffer's audit trail: an append-only chain of
// coffer.AuditRecord in which each record holds the SHA-256 hash of the one
// before it, so that a record altered, removed or moved breaks the chain.
//
// A Writer appends records with group commit: the requests under way each
// enqueue their record and wait, and one goroutine writes all the records
// waiting in one store transaction, so that a request is answered only once
// its record is durable, without one commit per request. Appends serialize
// on the chain's head (GetMeta's lock on HeadMeta), so that several nodes
// sharing one PostgreSQL database keep one linear chain.
//
// Verify walks the chain and names the first record that does not fit.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
)

// HeadMeta is the meta value that holds the chain's head: the Seq and Hash
// of its last record. Appends lock it; Verify compares the last record with
// it, so that records removed from the end are found too.
const HeadMeta = "audit.head"

// HashSize is the size of a record's hash.
const HashSize = sha256.Size

// encodingVersion starts every canonical encoding.
const encodingVersion = "coffer.audit.v1\x00"

// Hash returns the SHA-256 of the record's canonical encoding: every field
// but Hash, in a fixed order, each string prefixed by its length, integers
// fixed-width big-endian, the time in microseconds since the epoch (the
// precision the stores keep).
func Hash(r *coffer.AuditRecord) []byte {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	num := func(v int64) {
		binary.BigEndian.PutUint64(buf[:8], uint64(v))
		h.Write(buf[:8])
	}
	str := func(s string) {
		n := binary.PutUvarint(buf[:], uint64(len(s)))
		h.Write(buf[:n])
		h.Write([]byte(s))
	}
	h.Write([]byte(encodingVersion))
	num(r.Seq)
	num(r.Time.UnixMicro())
	for _, s := range []string{
		r.OrganizationID, r.PrincipalID, r.AccessKey, r.CertificateSerial, r.ProjectID, r.Dialect, r.Action,
		r.SecretID, r.Path, r.Revision, string(r.Outcome),
	} {
		str(s)
	}
	num(int64(r.Status))
	for _, s := range []string{r.ErrorCode, r.RequestID, r.Source, r.UserAgent, string(r.PrevHash)} {
		str(s)
	}
	return h.Sum(nil)
}

// Head is the position of the chain's last record.
type Head struct {
	Seq  int64
	Hash []byte
}

// encode returns the head as its meta value.
func (h Head) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(h.Seq))
	return append(b, h.Hash...)
}

// DecodeHead parses the meta value HeadMeta.
func DecodeHead(b []byte) (Head, error) {
	if len(b) != 8+HashSize {
		return Head{}, errors.New("audit: malformed chain head")
	}
	return Head{Seq: int64(binary.BigEndian.Uint64(b)), Hash: bytes.Clone(b[8:])}, nil
}

// Verifier checks a chain record by record, in Seq order from 1.
type Verifier struct {
	head   Head
	next   int64
	prev   []byte
	result coffer.AuditVerification
	done   bool
}

// NewVerifier returns a Verifier of the chain up to head, which must be read
// before the records are: records appended after it are not checked.
func NewVerifier(head Head) *Verifier {
	return &Verifier{head: head, next: 1, prev: make([]byte, HashSize)}
}

// Next returns the Seq after which the next records are wanted.
func (v *Verifier) Next() int64 { return v.next - 1 }

// Done reports whether the verifier wants no more records: it found a
// fault or reached the head.
func (v *Verifier) Done() bool { return v.done || v.next > v.head.Seq }

// Add checks the next records, in Seq order. It returns false once it has
// found a fault or reached the head.
func (v *Verifier) Add(recs []*coffer.AuditRecord) bool {
	for _, r := range recs {
		if v.Done() {
			break
		}
		switch {
		case r.Seq != v.next:
			v.fail(v.next, fmt.Sprintf("record %d is missing (the next stored record is %d)", v.next, r.Seq))
		case !bytes.Equal(Hash(r), r.Hash):
			v.fail(r.Seq, fmt.Sprintf("record %d was altered: its hash does not match its content", r.Seq))
		case !bytes.Equal(r.PrevHash, v.prev):
			v.fail(r.Seq, fmt.Sprintf("record %d does not follow the record before it: a record was removed, inserted or reordered", r.Seq))
		default:
			v.prev = r.Hash
			v.next++
			v.result.Records++
		}
	}
	return !v.Done()
}

func (v *Verifier) fail(seq int64, problem string) {
	v.done = true
	v.result.FirstBad, v.result.Problem = seq, problem
}

// Result ends the walk: records missing before the head, or a last record
// that differs from the head, are faults too.
func (v *Verifier) Result() *coffer.AuditVerification {
	if !v.done {
		switch {
		case v.next <= v.head.Seq:
			v.fail(v.next, fmt.Sprintf("record %d is missing: the trail ends at %d, its head is %d", v.next, v.next-1, v.head.Seq))
		case v.head.Seq > 0 && !bytes.Equal(v.prev, v.head.Hash):
			v.fail(v.head.Seq, fmt.Sprintf("record %d is not the chain's head: the end of the trail was replaced", v.head.Seq))
		}
	}
	out := v.result
	out.OK = out.FirstBad == 0
	return &out
}

// normalize gives a record the form its stored copy will have.
func normalize(r *coffer.AuditRecord, now time.Time) {
	if r.Time.IsZero() {
		r.Time = now
	}
	r.Time = r.Time.Truncate(time.Microsecond).UTC()
}
