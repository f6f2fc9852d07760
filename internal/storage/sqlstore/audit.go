package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.AuditTx = (*Tx)(nil)

// auditBlockColumns are the columns of audit_blocks, in the order
// AppendAuditBlock binds and scanAuditBlock reads them.
const auditBlockColumns = `first_seq, last_seq, min_time, max_time, data`

const appendAuditBlockSQL = `INSERT INTO audit_blocks (` + auditBlockColumns + `) VALUES (?, ?, ?, ?, ?)`

// AppendAuditBlock inserts a block as it is. Returns ErrConflict for a
// taken FirstSeq.
func (t *Tx) AppendAuditBlock(ctx context.Context, b *storage.AuditBlock) error {
	_, err := t.exec(ctx, appendAuditBlockSQL, b.FirstSeq, b.LastSeq, putTime(b.MinTime), putTime(b.MaxTime), putBytes(b.Data))
	if err != nil {
		return t.errorf("append audit block %d: %w", b.FirstSeq, t.classify(err))
	}
	return nil
}

// LastAuditBlock returns the block with the highest FirstSeq. Returns
// ErrNotFound.
func (t *Tx) LastAuditBlock(ctx context.Context) (*storage.AuditBlock, error) {
	b, err := scanAuditBlock(t.queryRow(ctx,
		`SELECT `+auditBlockColumns+` FROM audit_blocks ORDER BY first_seq DESC LIMIT 1`))
	if err != nil {
		return nil, t.errorf("last audit block: %w", t.classify(err))
	}
	return b, nil
}

// ListAuditBlocks returns matching blocks ordered by FirstSeq.
func (t *Tx) ListAuditBlocks(ctx context.Context, q storage.AuditBlockQuery) ([]*storage.AuditBlock, error) {
	query, args := listAuditBlocks(q)
	rows, err := t.queryBuilt(ctx, query, args...)
	if err != nil {
		return nil, t.errorf("list audit blocks: %w", t.classify(err))
	}
	out, err := collect(rows, scanAuditBlock)
	if err != nil {
		return nil, t.errorf("list audit blocks: %w", t.classify(err))
	}
	return out, nil
}

// listAuditBlocks returns the query that selects the blocks q asks for, and
// its arguments.
func listAuditBlocks(q storage.AuditBlockQuery) (string, []any) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, cond)
	}
	if q.AfterSeq > 0 {
		// The blocks from the one that holds AfterSeq+1, found through
		// the primary key, whose last_seq is past AfterSeq.
		add("first_seq >= coalesce((SELECT max(first_seq) FROM audit_blocks WHERE first_seq <= ?), 0)", q.AfterSeq+1)
		add("last_seq > ?", q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		add("first_seq < ?", q.BeforeSeq)
	}
	if !q.From.IsZero() {
		add("max_time >= ?", q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		add("min_time < ?", q.To.UnixMicro())
	}
	query := `SELECT ` + auditBlockColumns + ` FROM audit_blocks`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	if q.Desc {
		query += ` ORDER BY first_seq DESC`
	} else {
		query += ` ORDER BY first_seq`
	}
	if q.Limit > 0 {
		args = append(args, q.Limit)
		query += ` LIMIT ?`
	}
	return query, args
}

// scanAuditBlock reads the auditBlockColumns of one row.
func scanAuditBlock(row Row) (*storage.AuditBlock, error) {
	var (
		b          storage.AuditBlock
		minT, maxT int64
	)
	if err := row.Scan(&b.FirstSeq, &b.LastSeq, &minT, &maxT, &b.Data); err != nil {
		return nil, err
	}
	b.MinTime, b.MaxTime = getTime(minT), getTime(maxT)
	return &b, nil
}

var _ storage.PendingAuditTx = (*Tx)(nil)

const putPendingAuditSQL = `INSERT INTO audit_pending (request_id, created_at, data) VALUES (?, ?, ?)
ON CONFLICT (request_id) DO UPDATE SET created_at = excluded.created_at, data = excluded.data`

// PutPendingAudit stores the record of a request's change, replacing one
// of the same request.
func (t *Tx) PutPendingAudit(ctx context.Context, p *storage.PendingAudit) error {
	if _, err := t.exec(ctx, putPendingAuditSQL, p.RequestID, putTime(p.CreatedAt), putBytes(p.Data)); err != nil {
		return t.errorf("put pending audit record %s: %w", p.RequestID, t.classify(err))
	}
	return nil
}

const takePendingAuditSQL = `DELETE FROM audit_pending WHERE request_id = ?
RETURNING request_id, created_at, data`

// TakePendingAudit deletes the record of a request and returns it.
// Returns ErrNotFound.
func (t *Tx) TakePendingAudit(ctx context.Context, requestID string) (*storage.PendingAudit, error) {
	p, err := scanPendingAudit(t.queryRow(ctx, takePendingAuditSQL, requestID))
	if err != nil {
		return nil, t.errorf("take pending audit record %s: %w", requestID, t.classify(err))
	}
	return p, nil
}

func scanPendingAudit(row Row) (*storage.PendingAudit, error) {
	var (
		p  storage.PendingAudit
		at int64
	)
	if err := row.Scan(&p.RequestID, &at, &p.Data); err != nil {
		return nil, err
	}
	p.CreatedAt = getTime(at)
	return &p, nil
}

// ListPendingAudit returns up to limit records written before a time,
// oldest first.
func (t *Tx) ListPendingAudit(ctx context.Context, before time.Time, limit int) ([]*storage.PendingAudit, error) {
	rows, err := t.query(ctx, `SELECT request_id, created_at, data FROM audit_pending
WHERE created_at < ? ORDER BY created_at, request_id LIMIT ?`, putTime(before), limit)
	if err != nil {
		return nil, t.errorf("list pending audit records: %w", t.classify(err))
	}
	out, err := collect(rows, scanPendingAudit)
	if err != nil {
		return nil, t.errorf("list pending audit records: %w", t.classify(err))
	}
	return out, nil
}
