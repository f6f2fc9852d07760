package engine

import (
	"context"
	"errors"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Page sizes of the audit trail.
const (
	defaultAuditPage = 100
	maxAuditPage     = 1000
)

var _ coffer.AuditService = (*Engine)(nil)

// ListAudit returns one page of matching audit records. Returns
// EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
func (e *Engine) ListAudit(ctx context.Context, q coffer.AuditQuery) ([]*coffer.AuditRecord, error) {
	switch {
	case q.Limit < 0 || q.Limit > maxAuditPage:
		return nil, coffer.Invalid("page_size", coffer.ReasonConstraint, "the page size must be between 1 and 1000")
	case q.AfterSeq < 0 || q.BeforeSeq < 0:
		return nil, coffer.Invalid("after", coffer.ReasonConstraint, "a sequence number must not be negative")
	case !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From):
		return nil, coffer.Invalid("to", coffer.ReasonConstraint, "the end of the time range is before its start")
	}
	switch q.Outcome {
	case "", coffer.AuditOK, coffer.AuditDenied, coffer.AuditError:
	default:
		return nil, coffer.Invalid("outcome", coffer.ReasonFormat, "the outcome must be ok, denied or error")
	}
	if q.Limit == 0 {
		q.Limit = defaultAuditPage
	}
	if err := e.AuthorizeAudit(ctx); err != nil {
		return nil, err
	}
	// A caller reads its organization's records, and those of requests
	// that were not authenticated.
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	q.OrganizationID = c.Principal.OrganizationID
	var out []*coffer.AuditRecord
	err = e.view(ctx, func(tx storage.Tx) error {
		atx, err := auditTx(tx)
		if err != nil {
			return err
		}
		out, err = atx.ListAudit(ctx, q)
		return err
	})
	return out, err
}

// VerifyAudit walks the whole audit chain, page by page, up to the head it
// reads first, and names the first record that was altered, removed or
// moved. Returns EUNAUTHENTICATED, EFORBIDDEN.
func (e *Engine) VerifyAudit(ctx context.Context) (*coffer.AuditVerification, error) {
	if err := e.AuthorizeAudit(ctx); err != nil {
		return nil, err
	}
	var (
		head audit.Head
		lost bool
	)
	err := e.view(ctx, func(tx storage.Tx) error {
		b, err := tx.GetMeta(ctx, audit.HeadMeta)
		if errors.Is(err, storage.ErrNotFound) {
			// No head: the trail must be empty.
			atx, err := auditTx(tx)
			if err != nil {
				return err
			}
			if _, err := atx.LastAudit(ctx); err == nil {
				lost = true
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			return nil
		} else if err != nil {
			return err
		}
		head, err = audit.DecodeHead(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	if lost {
		return &coffer.AuditVerification{FirstBad: 1, Problem: "the chain's head is missing although the trail holds records"}, nil
	}
	v := audit.NewVerifier(head)
	for !v.Done() {
		var page []*coffer.AuditRecord
		err := e.view(ctx, func(tx storage.Tx) error {
			atx, err := auditTx(tx)
			if err != nil {
				return err
			}
			page, err = atx.ListAudit(ctx, coffer.AuditQuery{AfterSeq: v.Next(), Limit: maxAuditPage})
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		v.Add(page)
	}
	return v.Result(), nil
}

func auditTx(tx storage.Tx) (storage.AuditTx, error) {
	atx, ok := tx.(storage.AuditTx)
	if !ok {
		return nil, &coffer.Error{Code: coffer.EINTERNAL, Message: "the store does not keep an audit trail"}
	}
	return atx, nil
}
