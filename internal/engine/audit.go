package engine

import (
	"context"
	"strconv"

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
func (e *Engine) ListAudit(ctx context.Context, q coffer.AuditQuery) (*coffer.AuditPage, error) {
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
	var page *coffer.AuditPage
	err = e.view(ctx, func(tx storage.Tx) error {
		atx, ok := tx.(storage.AuditTx)
		if !ok {
			return errNoTrail
		}
		page, err = audit.List(ctx, atx, q)
		return err
	})
	return page, err
}

// VerifyAudit walks the whole audit chain (audit.Verify) and names the
// first record that was altered, removed or moved, or that does not match
// the anchor. Returns EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
func (e *Engine) VerifyAudit(ctx context.Context, anchor *coffer.AuditAnchor) (*coffer.AuditVerification, error) {
	if anchor != nil && (anchor.Seq < 1 || len(anchor.Hash) != audit.HashSize) {
		return nil, coffer.Invalid("anchor", coffer.ReasonFormat, "an anchor is a sequence number and a SHA-256 hash")
	}
	if err := e.AuthorizeAudit(ctx); err != nil {
		return nil, err
	}
	return audit.Verify(ctx, e.view, anchor)
}

// noteSecret notes on the request's audit entry the secret it acts on.
func noteSecret(ctx context.Context, s *coffer.Secret) {
	coffer.AuditEntryFromContext(ctx).Note(coffer.AuditFacts{ProjectID: s.ProjectID, SecretID: s.ID, Path: s.FullPath()})
}

// noteRevision notes on the request's audit entry the revision it acts on.
func noteRevision(ctx context.Context, rev uint32) {
	if e := coffer.AuditEntryFromContext(ctx); e != nil {
		e.Note(coffer.AuditFacts{Revision: strconv.FormatUint(uint64(rev), 10)})
	}
}

// errNoTrail is the error of a store without an audit trail.
var errNoTrail = &coffer.Error{Code: coffer.EINTERNAL, Message: "the store does not keep an audit trail"}
