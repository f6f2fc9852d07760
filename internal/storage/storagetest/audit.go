package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// testAudit checks the optional audit trail of a store that keeps one: the
// records round-trip field for field, a taken Seq conflicts, and the
// queries filter, order and page.
func testAudit(t *testing.T, s storage.Store) {
	ctx := t.Context()
	base := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	var recs []*coffer.AuditRecord
	for i := range 10 {
		outcome, status := coffer.AuditOK, 200
		switch i % 3 {
		case 1:
			outcome, status = coffer.AuditDenied, 403
		case 2:
			outcome, status = coffer.AuditError, 404
		}
		recs = append(recs, &coffer.AuditRecord{
			Seq: int64(i + 1), Time: base.Add(time.Duration(i) * time.Second),
			OrganizationID: fmt.Sprintf("org-%d", i%5), PrincipalID: fmt.Sprintf("principal-%d", i%2), AccessKey: "SCWAAAAAAAAAAAAAAAAA",
			CertificateSerial: "0a", ProjectID: "project", Dialect: "vaultkv",
			Action: fmt.Sprintf("GET /v1/{mount}/data/{path...}#%d", i%2), SecretID: fmt.Sprintf("secret-%d", i%4),
			Path: "a/b", Revision: "latest", Outcome: outcome, Status: status, ErrorCode: "code", RequestID: fmt.Sprintf("req-%d", i),
			Source: "192.0.2.1", UserAgent: "test/1", PrevHash: []byte{byte(i), 1, 2}, Hash: []byte{byte(i + 1), 3, 4},
		})
	}
	empty := true
	err := s.View(ctx, func(tx storage.Tx) error {
		at, ok := tx.(storage.AuditTx)
		if !ok {
			t.Skip("the store keeps no audit trail")
		}
		_, err := at.LastAudit(ctx)
		empty = errors.Is(err, storage.ErrNotFound)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !empty {
		t.Fatal("LastAudit of an empty trail: want ErrNotFound")
	}
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.AuditTx).AppendAudit(ctx, recs[:4])
	})
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.AuditTx).AppendAudit(ctx, recs[4:])
	})
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.AuditTx).AppendAudit(ctx, recs[3:4])
	})

	seqs := func(rs []*coffer.AuditRecord) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.Seq)
		}
		return out
	}
	view(t, s, func(ctx context.Context, tx storage.Tx) error {
		at := tx.(storage.AuditTx)
		last, err := at.LastAudit(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(recs[9], last); diff != "" {
			t.Errorf("LastAudit (-want +got):\n%s", diff)
		}
		all, err := at.ListAudit(ctx, coffer.AuditQuery{})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(recs, all); diff != "" {
			t.Errorf("ListAudit (-want +got):\n%s", diff)
		}
		for _, tc := range []struct {
			name string
			q    coffer.AuditQuery
			want []int64
		}{
			{"time range", coffer.AuditQuery{From: base.Add(2 * time.Second), To: base.Add(5 * time.Second)}, []int64{3, 4, 5}},
			{"principal", coffer.AuditQuery{PrincipalID: "principal-1"}, []int64{2, 4, 6, 8, 10}},
			{"secret", coffer.AuditQuery{SecretID: "secret-2"}, []int64{3, 7}},
			{"action", coffer.AuditQuery{Action: "GET /v1/{mount}/data/{path...}#0"}, []int64{1, 3, 5, 7, 9}},
			{"outcome", coffer.AuditQuery{Outcome: coffer.AuditDenied}, []int64{2, 5, 8}},
			{"page", coffer.AuditQuery{AfterSeq: 3, Limit: 2}, []int64{4, 5}},
			{"newest first", coffer.AuditQuery{Desc: true, Limit: 3}, []int64{10, 9, 8}},
			{"newest first, before", coffer.AuditQuery{Desc: true, BeforeSeq: 8, Limit: 2}, []int64{7, 6}},
			{"combined", coffer.AuditQuery{PrincipalID: "principal-0", Outcome: coffer.AuditOK, AfterSeq: 1}, []int64{7}},
			{"none", coffer.AuditQuery{PrincipalID: "nobody"}, nil},
			{"organization", coffer.AuditQuery{OrganizationID: "org-1"}, []int64{2, 7}},
		} {
			got, err := at.ListAudit(ctx, tc.q)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(tc.want, seqs(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
		return nil
	})
}
