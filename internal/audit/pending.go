package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// A change and its record commit together. The chain cannot take the record
// in the change's own transaction without serializing every change of every
// node on the chain's head, so the engine writes the record there as a
// pending record (PutPending), outside the chain, keyed by its request id.
// The Writer then moves it into the chain: the request's final record
// (with the status it was answered with) is appended, and the pending copy
// deleted, in one transaction. If the process dies, or the request's record
// never reaches the Writer, the sweep (Writer.Sweep) appends the pending
// copy as it is. Either way the change has exactly one record, and a
// change that did not commit has no pending one.

// ErrNoPending is the error of a store that cannot keep pending records.
var ErrNoPending = errors.New("audit: the store does not keep pending records")

// PutPending writes rec, the record of a change, in tx, the change's
// transaction, replacing the pending record of the same request.
func PutPending(ctx context.Context, tx storage.Tx, rec *coffer.AuditRecord, now time.Time) error {
	ptx, ok := tx.(storage.PendingAuditTx)
	if !ok {
		return ErrNoPending
	}
	if rec.RequestID == "" {
		return errors.New("audit: a pending record needs a request id")
	}
	normalize(rec, now)
	r := *rec
	r.Seq, r.PrevHash, r.Hash = 0, nil, nil
	return ptx.PutPendingAudit(ctx, &storage.PendingAudit{
		RequestID: rec.RequestID, CreatedAt: now, Data: appendBody(nil, &r),
	})
}

// decodePending returns the record a pending record holds.
func decodePending(p *storage.PendingAudit) (*coffer.AuditRecord, error) {
	r, err := decodeBody(p.Data)
	if err != nil {
		return nil, fmt.Errorf("audit: pending record %s: %w", p.RequestID, err)
	}
	if r.RequestID != p.RequestID {
		return nil, fmt.Errorf("audit: pending record %s holds request %s", p.RequestID, r.RequestID)
	}
	r.Seq, r.PrevHash = 0, nil
	return r, nil
}

// settle decides, in the transaction that appends recs to the chain, which
// records to append. Each staged record's pending copy is taken out: a
// record whose change committed with its copy is appended; one whose copy
// is gone although its change committed was appended already, by a sweep,
// and is left out. A record whose commit seemed to fail (StagedMaybe) but
// whose copy is there did commit: the copy, which records the change as
// done, is appended in its place.
func settle(ctx context.Context, tx storage.Tx, recs []*coffer.AuditRecord) ([]*coffer.AuditRecord, error) {
	var ptx storage.PendingAuditTx
	out := recs[:0:0]
	for _, r := range recs {
		if r.Staged == coffer.StagedNo {
			out = append(out, r)
			continue
		}
		if ptx == nil {
			var ok bool
			if ptx, ok = tx.(storage.PendingAuditTx); !ok {
				return nil, ErrNoPending
			}
		}
		p, err := ptx.TakePendingAudit(ctx, r.RequestID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			if r.Staged == coffer.StagedMaybe {
				out = append(out, r) // nothing committed
			}
		case err != nil:
			return nil, err
		case r.Staged == coffer.StagedYes || r.Outcome == coffer.AuditOK:
			out = append(out, r)
		default:
			copied, err := decodePending(p)
			if err != nil {
				return nil, err
			}
			copied.Time = r.Time
			out = append(out, copied)
		}
	}
	return out, nil
}
