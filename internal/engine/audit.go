package engine

import (
	"context"
	"strconv"
	"strings"

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

var _ coffer.SecretLogService = (*Engine)(nil)

// SecretLogs returns a page of a secret's audit records, newest first. It
// reads the newest coffer.MaxSecretLogs records of the secret in the
// caller's organization, filters them and pages them in memory, so that
// the total is exact within that bound.
func (e *Engine) SecretLogs(ctx context.Context, secretID string, q coffer.SecretLogQuery) ([]*coffer.AuditRecord, int, error) {
	switch {
	case q.Limit < 0 || q.Limit > maxAuditPage:
		return nil, 0, coffer.Invalid("page_size", coffer.ReasonConstraint, "the page size must be between 1 and 1000")
	case q.Offset < 0:
		return nil, 0, coffer.Invalid("page_no", coffer.ReasonConstraint, "the page must not be negative")
	case !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From):
		return nil, 0, coffer.Invalid("to", coffer.ReasonConstraint, "the end of the time range is before its start")
	case len(q.Keyword) > 200:
		return nil, 0, coffer.Invalid("keyword", coffer.ReasonConstraint, "the keyword is longer than 200 bytes")
	}
	if q.Limit == 0 {
		q.Limit = defaultAuditPage
	}
	c, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	kw := strings.ToLower(q.Keyword)
	var matched []*coffer.AuditRecord
	err = e.view(ctx, func(tx storage.Tx) error {
		if _, err := e.loadSecret(ctx, tx, c, actionRead, secretID); err != nil {
			return err
		}
		atx, ok := tx.(storage.AuditTx)
		if !ok {
			return errNoTrail
		}
		aq := coffer.AuditQuery{From: q.From, To: q.To, OrganizationID: c.Principal.OrganizationID,
			SecretID: secretID, Desc: true, Limit: maxAuditPage}
		for read := 0; read < coffer.MaxSecretLogs; {
			page, err := audit.List(ctx, atx, aq)
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				read++
				if kw == "" || strings.Contains(strings.ToLower(r.Action+"\x00"+r.PrincipalID+"\x00"+r.Dialect+"\x00"+string(r.Outcome)+"\x00"+r.ErrorCode), kw) {
					matched = append(matched, r)
				}
			}
			if page.Next == 0 {
				break
			}
			aq.BeforeSeq = page.Next
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	total := len(matched)
	if q.Offset >= total {
		return []*coffer.AuditRecord{}, total, nil
	}
	return matched[q.Offset:min(total, q.Offset+q.Limit)], total, nil
}
