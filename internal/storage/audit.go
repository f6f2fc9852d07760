package storage

import (
	"context"
	"time"
)

// AuditBlock is the stored form of the audit records one transaction
// appended: records FirstSeq to LastSeq, encoded by internal/audit into
// Data, which the store keeps as it is. MinTime and MaxTime span the
// records' times; with FirstSeq and LastSeq they let a query skip the
// blocks it does not need. One row per block rather than per record keeps
// the cost of the trail off the request path: a group commit of n records
// writes one row, not n rows and their index entries.
type AuditBlock struct {
	FirstSeq, LastSeq int64
	MinTime, MaxTime  time.Time
	Data              []byte
}

// AuditBlockQuery selects blocks. Zero fields do not filter.
type AuditBlockQuery struct {
	// AfterSeq keeps the blocks holding a record after it (LastSeq >
	// AfterSeq); BeforeSeq those holding one before it (FirstSeq <
	// BeforeSeq).
	AfterSeq, BeforeSeq int64
	// From and To keep the blocks whose time span meets [From, To).
	From, To time.Time
	// Desc orders by FirstSeq descending rather than ascending.
	Desc bool
	// Limit bounds the blocks returned; 0 returns all.
	Limit int
}

// AuditTx is implemented by the Tx of stores that keep the audit trail.
// The store only keeps blocks: internal/audit numbers the records, chains
// their hashes, encodes and decodes the blocks, and serializes appends with
// GetMeta's lock on the chain's head.
type AuditTx interface {
	// AppendAuditBlock inserts a block as it is. Returns ErrConflict for a
	// taken FirstSeq.
	AppendAuditBlock(ctx context.Context, b *AuditBlock) error
	// LastAuditBlock returns the block with the highest FirstSeq. Returns
	// ErrNotFound for an empty trail.
	LastAuditBlock(ctx context.Context) (*AuditBlock, error)
	// ListAuditBlocks returns matching blocks ordered by FirstSeq.
	ListAuditBlocks(ctx context.Context, q AuditBlockQuery) ([]*AuditBlock, error)
}

// PendingAudit is the record of a change, written in the change's own
// transaction and kept until the audit writer chains it: internal/audit
// encodes it into Data, which the store keeps as it is.
type PendingAudit struct {
	RequestID string
	CreatedAt time.Time
	Data      []byte
}

// PendingAuditTx is implemented by the Tx of stores whose changes commit
// with their audit records (see internal/audit's Pending).
type PendingAuditTx interface {
	// PutPendingAudit stores the record of a request's change, replacing
	// one of the same request.
	PutPendingAudit(ctx context.Context, p *PendingAudit) error
	// TakePendingAudit deletes the record of a request and returns it.
	// Returns ErrNotFound when there is none.
	TakePendingAudit(ctx context.Context, requestID string) (*PendingAudit, error)
	// ListPendingAudit returns up to limit records written before a time,
	// oldest first.
	ListPendingAudit(ctx context.Context, before time.Time, limit int) ([]*PendingAudit, error)
}

// Relaxed is implemented by stores that can commit a transaction without
// waiting for it to be durable: the audit writer commits its batches so,
// hands them to the operating system (or the database server) before the
// requests they record are answered, and makes them durable within a
// bounded window with Flush. A change never commits relaxed.
type Relaxed interface {
	// UpdateRelaxed is Update whose commit returns once the transaction
	// is written, not once it is on disk.
	UpdateRelaxed(ctx context.Context, fn func(Tx) error) error
	// Flush makes every transaction committed before it durable.
	Flush(ctx context.Context) error
}
