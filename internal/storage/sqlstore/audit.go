package sqlstore

import (
	"context"
	"strings"

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
