package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/storage"
)

// testAudit checks the optional audit trail of a store that keeps one: the
// blocks round-trip byte for byte, a taken FirstSeq conflicts, and the
// block queries bound by sequence and time, order and limit.
func testAudit(t *testing.T, s storage.Store) {
	ctx := t.Context()
	base := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	// Blocks of 3 records: 1-3, 4-6, 7-9, 10-12, 13-15; block i spans the
	// seconds [10i, 10i+5] after base.
	var blocks []*storage.AuditBlock
	for i := range 5 {
		blocks = append(blocks, &storage.AuditBlock{
			FirstSeq: int64(3*i + 1), LastSeq: int64(3*i + 3),
			MinTime: base.Add(time.Duration(10*i) * time.Second), MaxTime: base.Add(time.Duration(10*i+5) * time.Second),
			Data: []byte(fmt.Sprintf("block %d \x00\xff", i)),
		})
	}
	empty := true
	err := s.View(ctx, func(tx storage.Tx) error {
		at, ok := tx.(storage.AuditTx)
		if !ok {
			t.Skip("the store keeps no audit trail")
		}
		_, err := at.LastAuditBlock(ctx)
		empty = errors.Is(err, storage.ErrNotFound)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !empty {
		t.Fatal("LastAuditBlock of an empty trail: want ErrNotFound")
	}
	for _, b := range blocks {
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.(storage.AuditTx).AppendAuditBlock(ctx, b)
		})
	}
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		dup := *blocks[2]
		dup.Data = []byte("another")
		return tx.(storage.AuditTx).AppendAuditBlock(ctx, &dup)
	})

	firsts := func(bs []*storage.AuditBlock) []int64 {
		var out []int64
		for _, b := range bs {
			out = append(out, b.FirstSeq)
		}
		return out
	}
	view(t, s, func(ctx context.Context, tx storage.Tx) error {
		at := tx.(storage.AuditTx)
		last, err := at.LastAuditBlock(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(blocks[4], last); diff != "" {
			t.Errorf("LastAuditBlock (-want +got):\n%s", diff)
		}
		all, err := at.ListAuditBlocks(ctx, storage.AuditBlockQuery{})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(blocks, all); diff != "" {
			t.Errorf("ListAuditBlocks (-want +got):\n%s", diff)
		}
		for _, tc := range []struct {
			name string
			q    storage.AuditBlockQuery
			want []int64
		}{
			{"after a block's middle", storage.AuditBlockQuery{AfterSeq: 5}, []int64{4, 7, 10, 13}},
			{"after a block's end", storage.AuditBlockQuery{AfterSeq: 6}, []int64{7, 10, 13}},
			{"before", storage.AuditBlockQuery{BeforeSeq: 7}, []int64{1, 4}},
			{"after and before", storage.AuditBlockQuery{AfterSeq: 3, BeforeSeq: 11}, []int64{4, 7, 10}},
			{"limit", storage.AuditBlockQuery{AfterSeq: 3, Limit: 2}, []int64{4, 7}},
			{"newest first", storage.AuditBlockQuery{Desc: true, Limit: 2}, []int64{13, 10}},
			{"newest first, before", storage.AuditBlockQuery{Desc: true, BeforeSeq: 10}, []int64{7, 4, 1}},
			{"from, inside a span", storage.AuditBlockQuery{From: base.Add(23 * time.Second)}, []int64{7, 10, 13}},
			{"from, between spans", storage.AuditBlockQuery{From: base.Add(26 * time.Second)}, []int64{10, 13}},
			{"to is exclusive", storage.AuditBlockQuery{To: base.Add(20 * time.Second)}, []int64{1, 4}},
			{"from and to", storage.AuditBlockQuery{From: base.Add(15 * time.Second), To: base.Add(31 * time.Second)}, []int64{4, 7, 10}},
			{"none", storage.AuditBlockQuery{AfterSeq: 15}, nil},
		} {
			got, err := at.ListAuditBlocks(ctx, tc.q)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(tc.want, firsts(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
		return nil
	})
}

// testPendingAudit checks the pending records of changes: stored as they
// are, replaced by request, taken once, listed oldest first below a time,
// and rolled back with the transaction that wrote them.
func testPendingAudit(t *testing.T, s storage.Store) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	put := func(id string, at time.Time, data string) func(ctx context.Context, tx storage.Tx) error {
		return func(ctx context.Context, tx storage.Tx) error {
			return tx.(storage.PendingAuditTx).PutPendingAudit(ctx, &storage.PendingAudit{RequestID: id, CreatedAt: at, Data: []byte(data)})
		}
	}
	update(t, s, put("req-b", t0.Add(time.Second), "b"))
	update(t, s, put("req-a", t0, "a-first"))
	update(t, s, put("req-a", t0, "a"))
	update(t, s, put("req-c", t0.Add(time.Hour), "c"))
	// Rolled back with its transaction.
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		if err := put("req-x", t0, "x")(t.Context(), tx); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}

	view(t, s, func(ctx context.Context, tx storage.Tx) error {
		ps, err := tx.(storage.PendingAuditTx).ListPendingAudit(ctx, t0.Add(time.Minute), 10)
		if err != nil {
			return err
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.RequestID+"="+string(p.Data))
		}
		if fmt.Sprint(got) != "[req-a=a req-b=b]" {
			t.Errorf("ListPendingAudit = %v, want [req-a=a req-b=b]", got)
		}
		if len(ps) > 0 && !ps[0].CreatedAt.Equal(t0) {
			t.Errorf("created at %v, want %v", ps[0].CreatedAt, t0)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		ptx := tx.(storage.PendingAuditTx)
		p, err := ptx.TakePendingAudit(ctx, "req-a")
		if err != nil || string(p.Data) != "a" {
			t.Errorf("TakePendingAudit = %+v, %v", p, err)
		}
		if _, err := ptx.TakePendingAudit(ctx, "req-a"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("TakePendingAudit of a taken record: %v, want ErrNotFound", err)
		}
		if _, err := ptx.TakePendingAudit(ctx, "req-x"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("TakePendingAudit of a rolled-back record: %v, want ErrNotFound", err)
		}
		return nil
	})
}
