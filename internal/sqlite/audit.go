package sqlite

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/sqltext"
)

var _ storage.AuditTx = (*tx)(nil)

var appendAuditBlockSQL = sqltext.AppendAuditBlock(sqltext.Question)

// AppendAuditBlock inserts a block as it is. Returns ErrConflict for a
// taken FirstSeq.
func (t *tx) AppendAuditBlock(ctx context.Context, b *storage.AuditBlock) error {
	_, err := t.exec(ctx, appendAuditBlockSQL, b.FirstSeq, b.LastSeq, putTime(b.MinTime), putTime(b.MaxTime), b.Data)
	if err != nil {
		return fmt.Errorf("sqlite: append audit block %d: %w", b.FirstSeq, classify(err))
	}
	return nil
}

// LastAuditBlock returns the block with the highest FirstSeq. Returns
// ErrNotFound.
func (t *tx) LastAuditBlock(ctx context.Context) (*storage.AuditBlock, error) {
	b, err := scanAuditBlock(t.queryRow(ctx, sqltext.LastAuditBlock))
	if err != nil {
		return nil, fmt.Errorf("sqlite: last audit block: %w", classify(err))
	}
	return b, nil
}

// ListAuditBlocks returns matching blocks ordered by FirstSeq.
func (t *tx) ListAuditBlocks(ctx context.Context, q storage.AuditBlockQuery) ([]*storage.AuditBlock, error) {
	query, args := sqltext.ListAuditBlocks(q, sqltext.Question)
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit blocks: %w", classify(err))
	}
	defer rows.Close()
	var out []*storage.AuditBlock
	for rows.Next() {
		b, err := scanAuditBlock(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list audit blocks: %w", classify(err))
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list audit blocks: %w", classify(err))
	}
	return out, nil
}

func scanAuditBlock(s interface{ Scan(...any) error }) (*storage.AuditBlock, error) {
	var (
		b          storage.AuditBlock
		minT, maxT int64
	)
	if err := s.Scan(&b.FirstSeq, &b.LastSeq, &minT, &maxT, &b.Data); err != nil {
		return nil, err
	}
	b.MinTime, b.MaxTime = getTime(minT), getTime(maxT)
	return &b, nil
}
