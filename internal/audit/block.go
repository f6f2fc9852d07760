package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// A block is how the store keeps the records of one append: one row, whose
// Data is
//
//	blockMagic
//	then, for each record in Seq order:
//	    uvarint length of the record's body
//	    body: the record's canonical encoding without encodingVersion
//	    the record's 32-byte Hash
//
// The body is exactly what Hash hashes (after encodingVersion), so one
// encoding serves both the chain and the store, and a record is hashed
// and stored in one pass. A block is never changed once written.

// blockMagic starts every block's Data and names its format.
const blockMagic = "cab1"

// maxBlockRecords bounds the records a decoded block may claim, so that a
// corrupt length cannot make the decoder allocate without bound.
const maxBlockRecords = 1 << 20

// errMalformed is wrapped by DecodeBlock's errors.
var errMalformed = errors.New("malformed audit block")

// appendString appends s prefixed by its length.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendBody appends the canonical encoding of every field of r but Hash:
// in a fixed order, each string prefixed by its length, integers
// fixed-width big-endian, the time in microseconds since the epoch (the
// precision the stores keep).
func appendBody(b []byte, r *coffer.AuditRecord) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixMicro()))
	for _, s := range [...]string{
		r.OrganizationID, r.PrincipalID, r.AccessKey, r.CertificateSerial, r.ProjectID, r.Dialect, r.Action,
		r.SecretID, r.Path, r.Revision, string(r.Outcome),
	} {
		b = appendString(b, s)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(int64(r.Status)))
	for _, s := range [...]string{r.ErrorCode, r.RequestID, r.Source, r.UserAgent} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(r.PrevHash)))
	return append(b, r.PrevHash...)
}

// sealer numbers, chains, hashes and encodes records, reusing its buffer.
type sealer struct {
	scratch []byte
}

// seal gives recs the Seq and hashes that follow head and returns the block
// that holds them, and the new head. recs must not be empty.
func (s *sealer) seal(recs []*coffer.AuditRecord, head Head) (*storage.AuditBlock, Head) {
	blk := &storage.AuditBlock{FirstSeq: head.Seq + 1, MinTime: recs[0].Time, MaxTime: recs[0].Time}
	data := make([]byte, 0, len(blockMagic)+len(recs)*(320+HashSize))
	data = append(data, blockMagic...)
	// One allocation holds the hashes of the whole block.
	hashes := make([]byte, len(recs)*HashSize)
	for i, r := range recs {
		r.Seq = head.Seq + 1
		r.PrevHash = head.Hash
		s.scratch = appendBody(append(s.scratch[:0], encodingVersion...), r)
		sum := sha256.Sum256(s.scratch)
		r.Hash = hashes[i*HashSize : (i+1)*HashSize : (i+1)*HashSize]
		copy(r.Hash, sum[:])
		body := s.scratch[len(encodingVersion):]
		data = binary.AppendUvarint(data, uint64(len(body)))
		data = append(data, body...)
		data = append(data, r.Hash...)
		head = Head{Seq: r.Seq, Hash: r.Hash}
		if r.Time.Before(blk.MinTime) {
			blk.MinTime = r.Time
		}
		if r.Time.After(blk.MaxTime) {
			blk.MaxTime = r.Time
		}
	}
	blk.LastSeq, blk.Data = head.Seq, data
	return blk, head
}

// EncodeBlock returns the block that holds recs as they are, hashes
// included: a record altered after it was hashed keeps its stale Hash. It
// is what the store is given, and lets tests store altered records.
func EncodeBlock(recs []*coffer.AuditRecord) *storage.AuditBlock {
	blk := &storage.AuditBlock{Data: []byte(blockMagic)}
	for i, r := range recs {
		body := appendBody(nil, r)
		blk.Data = binary.AppendUvarint(blk.Data, uint64(len(body)))
		blk.Data = append(append(blk.Data, body...), r.Hash...)
		if i == 0 || r.Time.Before(blk.MinTime) {
			blk.MinTime = r.Time
		}
		if i == 0 || r.Time.After(blk.MaxTime) {
			blk.MaxTime = r.Time
		}
	}
	if len(recs) > 0 {
		blk.FirstSeq, blk.LastSeq = recs[0].Seq, recs[len(recs)-1].Seq
	}
	return blk
}

// DecodeBlock returns the records a block holds, with their stored hashes,
// in the order they are stored. It checks the block's form, not its
// content: Verifier checks the hashes, the chain and the block's bounds.
func DecodeBlock(blk *storage.AuditBlock) ([]*coffer.AuditRecord, error) {
	d := blk.Data
	if len(d) < len(blockMagic) || string(d[:len(blockMagic)]) != blockMagic {
		return nil, fmt.Errorf("%w: unknown format", errMalformed)
	}
	d = d[len(blockMagic):]
	var out []*coffer.AuditRecord
	for len(d) > 0 {
		if len(out) == maxBlockRecords {
			return nil, fmt.Errorf("%w: too many records", errMalformed)
		}
		n, k := uvarint(d)
		if k <= 0 || n > uint64(len(d)-k) || uint64(len(d)-k)-n < HashSize {
			return nil, fmt.Errorf("%w: record %d is truncated", errMalformed, len(out)+1)
		}
		body := d[k : k+int(n)]
		r, err := decodeBody(body)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", errMalformed, len(out)+1, err)
		}
		r.Hash = d[k+int(n) : k+int(n)+HashSize : k+int(n)+HashSize]
		out = append(out, r)
		d = d[k+int(n)+HashSize:]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no records", errMalformed)
	}
	return out, nil
}

// uvarint reads a length as binary.Uvarint does, and refuses (k = 0) one
// not written in its shortest form, so that a block has one encoding.
func uvarint(b []byte) (n uint64, k int) {
	n, k = binary.Uvarint(b)
	if k > 0 && k != len(binary.AppendUvarint(nil, n)) {
		return 0, 0
	}
	return n, k
}

// decoder reads a record's body.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uint64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.err = errors.New("truncated number")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) bytes() []byte {
	if d.err != nil {
		return nil
	}
	n, k := uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.err = errors.New("truncated string")
		return nil
	}
	v := d.b[k : k+int(n) : k+int(n)]
	d.b = d.b[k+int(n):]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }

// decodeBody parses what appendBody wrote.
func decodeBody(b []byte) (*coffer.AuditRecord, error) {
	d := &decoder{b: b}
	r := &coffer.AuditRecord{Seq: int64(d.uint64())}
	r.Time = time.UnixMicro(int64(d.uint64())).UTC()
	for _, p := range [...]*string{
		&r.OrganizationID, &r.PrincipalID, &r.AccessKey, &r.CertificateSerial, &r.ProjectID, &r.Dialect, &r.Action,
		&r.SecretID, &r.Path, &r.Revision,
	} {
		*p = d.string()
	}
	r.Outcome = coffer.AuditOutcome(d.string())
	r.Status = int(int64(d.uint64()))
	for _, p := range [...]*string{&r.ErrorCode, &r.RequestID, &r.Source, &r.UserAgent} {
		*p = d.string()
	}
	r.PrevHash = d.bytes()
	switch {
	case d.err != nil:
		return nil, d.err
	case len(d.b) > 0:
		return nil, errors.New("trailing bytes")
	}
	return r, nil
}
