package audit

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// scanBlocks is how many blocks List reads from the store at a time.
const scanBlocks = 32

// maxScan bounds the records one List call examines: a query that matches
// few records of a long trail returns a short page, possibly empty, with a
// Next to go on from, rather than reading the whole trail in one request.
// A variable for the tests.
var maxScan = 100_000

// List returns one page of the records q selects, of at most q.Limit
// records (q.Limit must be positive). The store keeps blocks, not records:
// List reads the blocks that may hold matching records, in order, and
// filters their records. Page.Next is set when the trail may hold more: it
// is the AfterSeq (with Desc, the BeforeSeq) of the next page.
func List(ctx context.Context, atx storage.AuditTx, q coffer.AuditQuery) (*coffer.AuditPage, error) {
	bq := storage.AuditBlockQuery{AfterSeq: q.AfterSeq, BeforeSeq: q.BeforeSeq, From: q.From, To: q.To, Desc: q.Desc, Limit: scanBlocks}
	page := &coffer.AuditPage{Records: []*coffer.AuditRecord{}}
	scanned := 0
	for {
		blocks, err := atx.ListAuditBlocks(ctx, bq)
		if err != nil {
			return nil, err
		}
		for _, blk := range blocks {
			recs, err := DecodeBlock(blk)
			if err != nil {
				return nil, &coffer.Error{Code: coffer.EINTERNAL, Message: fmt.Sprintf(
					"the audit block of records %d to %d cannot be read; run coffer audit verify", blk.FirstSeq, blk.LastSeq)}
			}
			for i := range recs {
				r := recs[i]
				if q.Desc {
					r = recs[len(recs)-1-i]
				}
				if !inRange(r, q) {
					continue
				}
				scanned++
				if matches(r, q) {
					page.Records = append(page.Records, r)
					if len(page.Records) == q.Limit {
						page.Next = r.Seq
						return page, nil
					}
				}
				if scanned >= maxScan {
					page.Next = r.Seq
					return page, nil
				}
			}
			if q.Desc {
				bq.BeforeSeq = blk.FirstSeq
			} else {
				bq.AfterSeq = blk.LastSeq
			}
		}
		if len(blocks) < scanBlocks {
			return page, nil
		}
	}
}

// inRange reports whether r lies within q's sequence bounds.
func inRange(r *coffer.AuditRecord, q coffer.AuditQuery) bool {
	return (q.AfterSeq == 0 || r.Seq > q.AfterSeq) && (q.BeforeSeq == 0 || r.Seq < q.BeforeSeq)
}

// matches reports whether r passes q's filters.
func matches(r *coffer.AuditRecord, q coffer.AuditQuery) bool {
	switch {
	case !q.From.IsZero() && r.Time.Before(q.From),
		!q.To.IsZero() && !r.Time.Before(q.To),
		q.OrganizationID != "" && r.OrganizationID != q.OrganizationID && r.OrganizationID != "",
		q.PrincipalID != "" && r.PrincipalID != q.PrincipalID,
		q.SecretID != "" && r.SecretID != q.SecretID,
		q.Action != "" && r.Action != q.Action,
		q.Outcome != "" && r.Outcome != q.Outcome:
		return false
	}
	return true
}
