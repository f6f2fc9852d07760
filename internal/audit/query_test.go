package audit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/storage"
)

// appendAll appends recs through a real store, in blocks of the given
// sizes.
func appendAll(t *testing.T, s storage.Store, recs []*coffer.AuditRecord, sizes ...int) {
	t.Helper()
	for _, n := range sizes {
		batch := recs[:n]
		recs = recs[n:]
		if err := s.Update(t.Context(), func(tx storage.Tx) error { return audit.Append(t.Context(), tx, batch) }); err != nil {
			t.Fatal(err)
		}
	}
	if len(recs) != 0 {
		t.Fatalf("%d records left over", len(recs))
	}
}

// TestList checks the filters, orders and pages of List over records
// stored in blocks of several sizes.
func TestList(t *testing.T) {
	s := openStore(t)
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
			Time:           base.Add(time.Duration(i) * time.Second),
			OrganizationID: fmt.Sprintf("org-%d", i%5), PrincipalID: fmt.Sprintf("principal-%d", i%2),
			Dialect: "vaultkv", Action: fmt.Sprintf("GET /v1/{mount}/data/{path...}#%d", i%2), SecretID: fmt.Sprintf("secret-%d", i%4),
			Outcome: outcome, Status: status, RequestID: fmt.Sprintf("req-%d", i),
		})
	}
	recs[9].OrganizationID = "" // an unauthenticated request
	appendAll(t, s, recs, 4, 1, 5)

	list := func(q coffer.AuditQuery) *coffer.AuditPage {
		t.Helper()
		var page *coffer.AuditPage
		err := s.View(t.Context(), func(tx storage.Tx) (err error) {
			page, err = audit.List(t.Context(), tx.(storage.AuditTx), q)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	seqs := func(p *coffer.AuditPage) []int64 {
		var out []int64
		for _, r := range p.Records {
			out = append(out, r.Seq)
		}
		return out
	}
	if diff := cmp.Diff(recs, list(coffer.AuditQuery{Limit: 100}).Records); diff != "" {
		t.Errorf("all records (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name string
		q    coffer.AuditQuery
		want []int64
		next int64
	}{
		{"time range", coffer.AuditQuery{From: base.Add(2 * time.Second), To: base.Add(5 * time.Second)}, []int64{3, 4, 5}, 0},
		{"principal", coffer.AuditQuery{PrincipalID: "principal-1"}, []int64{2, 4, 6, 8, 10}, 0},
		{"secret", coffer.AuditQuery{SecretID: "secret-2"}, []int64{3, 7}, 0},
		{"action", coffer.AuditQuery{Action: "GET /v1/{mount}/data/{path...}#0"}, []int64{1, 3, 5, 7, 9}, 0},
		{"outcome", coffer.AuditQuery{Outcome: coffer.AuditDenied}, []int64{2, 5, 8}, 0},
		{"page", coffer.AuditQuery{AfterSeq: 3, Limit: 2}, []int64{4, 5}, 5},
		{"page across blocks", coffer.AuditQuery{AfterSeq: 4, Limit: 3}, []int64{5, 6, 7}, 7},
		{"last page", coffer.AuditQuery{AfterSeq: 8}, []int64{9, 10}, 0},
		{"newest first", coffer.AuditQuery{Desc: true, Limit: 3}, []int64{10, 9, 8}, 8},
		{"newest first, before", coffer.AuditQuery{Desc: true, BeforeSeq: 6, Limit: 3}, []int64{5, 4, 3}, 3},
		{"newest first, to the start", coffer.AuditQuery{Desc: true, BeforeSeq: 3}, []int64{2, 1}, 0},
		{"after and before", coffer.AuditQuery{AfterSeq: 2, BeforeSeq: 6}, []int64{3, 4, 5}, 0},
		{"combined", coffer.AuditQuery{PrincipalID: "principal-0", Outcome: coffer.AuditOK, AfterSeq: 1}, []int64{7}, 0},
		{"none", coffer.AuditQuery{PrincipalID: "nobody"}, nil, 0},
		{"organization, and unauthenticated requests", coffer.AuditQuery{OrganizationID: "org-1"}, []int64{2, 7, 10}, 0},
	} {
		if tc.q.Limit == 0 {
			tc.q.Limit = 100
		}
		page := list(tc.q)
		if diff := cmp.Diff(tc.want, seqs(page)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
		if page.Next != tc.next {
			t.Errorf("%s: next = %d, want %d", tc.name, page.Next, tc.next)
		}
	}

	// A query that examines its bound of records returns what it found so
	// far with a Next; following Next finds every match once.
	defer audit.SetMaxScan(3)()
	var got []int64
	pages := 0
	q := coffer.AuditQuery{PrincipalID: "principal-1", Limit: 100}
	for {
		page := list(q)
		pages++
		got = append(got, seqs(page)...)
		if page.Next == 0 {
			break
		}
		q.AfterSeq = page.Next
	}
	if diff := cmp.Diff([]int64{2, 4, 6, 8, 10}, got); diff != "" || pages < 4 {
		t.Errorf("bounded scan over %d pages (-want +got):\n%s", pages, diff)
	}
}
