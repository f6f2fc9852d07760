// Package audit keeps coffer's audit trail: an append-only chain of
// coffer.AuditRecord in which each record holds the SHA-256 hash of the one
// before it, so that a record altered, removed or moved breaks the chain.
//
// A Writer appends records with group commit: the requests under way each
// enqueue their record and wait, and one goroutine writes all the records
// waiting in one store transaction, so that a request is answered only once
// its record is durable, without one commit per request. Appends serialize
// on the chain's head (GetMeta's lock on HeadMeta), so that several nodes
// sharing one PostgreSQL database keep one linear chain. The records of one
// transaction are stored as one block (block.go): one row per commit keeps
// the trail's cost per request to encoding and hashing a few hundred bytes.
// List decodes blocks and filters their records.
//
// Verify walks the chain and names the first record that does not fit.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
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

// Hash returns the SHA-256 of the record's canonical encoding:
// encodingVersion, then every field but Hash (see appendBody).
func Hash(r *coffer.AuditRecord) []byte {
	sum := sha256.Sum256(appendBody([]byte(encodingVersion), r))
	return sum[:]
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

// normalize gives a record the form its stored copy will have.
func normalize(r *coffer.AuditRecord, now time.Time) {
	if r.Time.IsZero() {
		r.Time = now
	}
	r.Time = r.Time.Truncate(time.Microsecond).UTC()
}
