package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Verify walks the whole chain up to the head it reads first, block by
// block, each read in a transaction of its own that view runs, and names
// the first record that was altered, removed or moved. It needs nothing
// but the store: no key, no running server (coffer audit verify --store
// runs it on a stopped node's database).
//
// Given an anchor, the record it names must be in the chain with the
// anchored hash.
func Verify(ctx context.Context, view func(ctx context.Context, fn func(storage.Tx) error) error, anchor *coffer.AuditAnchor) (*coffer.AuditVerification, error) {
	var (
		head Head
		lost bool
	)
	err := view(ctx, func(tx storage.Tx) error {
		atx, ok := tx.(storage.AuditTx)
		if !ok {
			return errors.New("audit: the store does not keep an audit trail")
		}
		b, err := tx.GetMeta(ctx, HeadMeta)
		if errors.Is(err, storage.ErrNotFound) {
			// No head: the trail must be empty.
			if _, err := atx.LastAuditBlock(ctx); err == nil {
				lost = true
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			return nil
		} else if err != nil {
			return err
		}
		head, err = DecodeHead(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	if lost {
		return &coffer.AuditVerification{FirstBad: 1, Problem: "the chain's head is missing although the trail holds records"}, nil
	}
	v := NewVerifier(head)
	if anchor != nil {
		v.Anchor(*anchor)
	}
	for !v.Done() {
		var blocks []*storage.AuditBlock
		err := view(ctx, func(tx storage.Tx) error {
			var err error
			blocks, err = tx.(storage.AuditTx).ListAuditBlocks(ctx, storage.AuditBlockQuery{AfterSeq: v.Next(), Limit: scanBlocks})
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(blocks) == 0 {
			break
		}
		for _, blk := range blocks {
			if !v.AddBlock(blk) {
				break
			}
		}
	}
	return v.Result(), nil
}

// Verifier checks a chain record by record, in Seq order from 1.
type Verifier struct {
	anchor *coffer.AuditAnchor
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

// Anchor makes the walk check that record a.Seq has hash a.Hash.
func (v *Verifier) Anchor(a coffer.AuditAnchor) { v.anchor = &a }

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
		case v.anchor != nil && r.Seq == v.anchor.Seq && !bytes.Equal(r.Hash, v.anchor.Hash):
			v.fail(r.Seq, fmt.Sprintf("record %d does not have the anchored hash: the trail up to it was rewritten", r.Seq))
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
		case v.anchor != nil && v.anchor.Seq > v.head.Seq:
			v.fail(v.head.Seq+1, fmt.Sprintf("the anchored record %d is missing: the trail ends at %d", v.anchor.Seq, v.head.Seq))
		case v.head.Seq > 0 && !bytes.Equal(v.prev, v.head.Hash):
			v.fail(v.head.Seq, fmt.Sprintf("record %d is not the chain's head: the end of the trail was replaced", v.head.Seq))
		}
	}
	out := v.result
	out.OK = out.FirstBad == 0
	out.HeadSeq, out.HeadHash = v.head.Seq, v.head.Hash
	return &out
}

// AddBlock checks the records of the next block, in Seq order. A block
// that cannot be decoded is a fault at the first record not yet checked;
// one whose bounds (which queries use to skip blocks) do not match its
// intact records, a fault at its first record. It
// returns false once it has found a fault or reached the head.
func (v *Verifier) AddBlock(blk *storage.AuditBlock) bool {
	if v.Done() {
		return false
	}
	recs, err := DecodeBlock(blk)
	if err != nil {
		v.fail(v.next, fmt.Sprintf("the block stored for records %d to %d cannot be read (%v): records were altered", blk.FirstSeq, blk.LastSeq, err))
		return false
	}
	first, last := recs[0], recs[len(recs)-1]
	minT, maxT := first.Time, first.Time
	for _, r := range recs {
		if r.Time.Before(minT) {
			minT = r.Time
		}
		if r.Time.After(maxT) {
			maxT = r.Time
		}
	}
	more := v.Add(recs)
	if v.done {
		return false
	}
	if blk.FirstSeq != first.Seq || blk.LastSeq != last.Seq || !blk.MinTime.Equal(minT) || !blk.MaxTime.Equal(maxT) {
		v.fail(first.Seq, fmt.Sprintf("the block holding records %d to %d was altered: its stored bounds, which queries rely on, do not match its records", first.Seq, last.Seq))
		return false
	}
	return more
}
