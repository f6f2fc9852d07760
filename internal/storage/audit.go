package storage

import (
	"context"

	"github.com/coffer-dev/coffer"
)

// AuditTx is implemented by the Tx of stores that keep the audit trail.
// The store only records: internal/audit numbers the records and chains
// their hashes, and serializes appends with GetMeta's lock on its head.
type AuditTx interface {
	// AppendAudit inserts records as they are. Returns ErrConflict for a
	// taken Seq.
	AppendAudit(ctx context.Context, recs []*coffer.AuditRecord) error
	// LastAudit returns the record with the highest Seq. Returns
	// ErrNotFound for an empty trail.
	LastAudit(ctx context.Context) (*coffer.AuditRecord, error)
	// ListAudit returns up to q.Limit matching records (all of them for
	// Limit 0) ordered by Seq, descending with q.Desc.
	ListAudit(ctx context.Context, q coffer.AuditQuery) ([]*coffer.AuditRecord, error)
}
