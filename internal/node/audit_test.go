package node_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// auditCall sends a request to the node over HTTP and returns the status, the
// body and the request id the node answered with.
func auditCall(t *testing.T, n *nodetest.Node, method, path string, body string, header ...string) (int, string, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "audit-test/1")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header.Get("X-Request-Id")
}

// auditRecords returns the whole trail, oldest first.
func auditRecords(t *testing.T, ctx context.Context, n *nodetest.Node) []*coffer.AuditRecord {
	t.Helper()
	var (
		out   []*coffer.AuditRecord
		after int64
	)
	for {
		page, err := n.Engine.ListAudit(ctx, coffer.AuditQuery{AfterSeq: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Records...)
		if page.Next == 0 {
			return out
		}
		after = page.Next
	}
}

// byRequestID returns the one record of a request.
func byRequestID(t *testing.T, recs []*coffer.AuditRecord, id string) *coffer.AuditRecord {
	t.Helper()
	var found *coffer.AuditRecord
	for _, r := range recs {
		if r.RequestID == id {
			if found != nil {
				t.Fatalf("request %s has two audit records", id)
			}
			found = r
		}
	}
	if found == nil {
		t.Fatalf("request %s has no audit record", id)
	}
	return found
}

// auditFixture is a node with a key-value secret whose value is a marker.
type auditFixture struct {
	n      *nodetest.Node
	ctx    context.Context
	id     string
	marker string
}

func newAuditFixture(t *testing.T, opts ...nodetest.Option) *auditFixture {
	t.Helper()
	n := nodetest.Start(t, opts...)
	ctx := as(t, n)
	m := marker(t)
	id := write(t, ctx, n, "db", coffer.TypeKeyValue, `{"password":"`+m+`"}`)
	return &auditFixture{n: n, ctx: ctx, id: id, marker: m}
}

// badToken is a secret key no principal holds.
const badToken = "11111111-1111-4111-8111-111111111111"

// encoded is the secret's value as Scaleway returns it.
func (f *auditFixture) encoded() string {
	return base64.StdEncoding.EncodeToString([]byte(`{"password":"` + f.marker + `"}`))
}

// requests are one value read on each dialect, an admin API call and a
// refused one.
func (f *auditFixture) requests() []struct {
	name, method, path, dialect, action string
	status                              int
	outcome                             coffer.AuditOutcome
	header                              []string
} {
	key := f.n.Creds.SecretKey
	project := f.n.Creds.ProjectID
	return []struct {
		name, method, path, dialect, action string
		status                              int
		outcome                             coffer.AuditOutcome
		header                              []string
	}{
		{"scaleway", "GET", "/secret-manager/v1beta1/regions/fr-par/secrets/" + f.id + "/versions/latest/access",
			"scaleway", "GET /secret-manager/v1beta1/regions/{region}/secrets/{secret_id}/versions/{revision}/access",
			200, coffer.AuditOK, []string{"X-Auth-Token", key}},
		{"vault", "GET", "/v1/secret/data/test/db", "vaultkv", "GET /v1/secret/data/{path...}",
			200, coffer.AuditOK, []string{"X-Vault-Token", key}},
		{"okms", "GET", "/api/" + project + "/v2/secret/test%2Fdb?includeData=true", "okms", "GET /api/{okmsId}/v2/secret/{path...}",
			200, coffer.AuditOK, []string{"Authorization", "Bearer " + key}},
		{"admin", "GET", "/coffer/v1/audit?page_size=1", "admin", "GET /coffer/v1/audit",
			200, coffer.AuditOK, []string{"Authorization", "Bearer " + key}},
		{"denied", "GET", "/secret-manager/v1beta1/regions/fr-par/secrets/" + f.id + "/versions/latest/access",
			"scaleway", "GET /secret-manager/v1beta1/regions/{region}/secrets/{secret_id}/versions/{revision}/access",
			401, coffer.AuditDenied, []string{"X-Auth-Token", badToken}},
		{"not found", "GET", "/secret-manager/v1beta1/regions/fr-par/secrets/00000000-0000-4000-8000-000000000000",
			"scaleway", "GET /secret-manager/v1beta1/regions/{region}/secrets/{secret_id}",
			404, coffer.AuditError, []string{"X-Auth-Token", key}},
	}
}

// TestAuditRecordsEveryRequest sends requests to every dialect and checks
// that each yields exactly one record with the right fields, and that no
// record holds a secret value, a secret key or a token.
func TestAuditRecordsEveryRequest(t *testing.T) {
	f := newAuditFixture(t)
	type sent struct {
		name, id, dialect, action string
		status                    int
		outcome                   coffer.AuditOutcome
		authenticated             bool
	}
	var all []sent
	for _, rq := range f.requests() {
		code, body, id := auditCall(t, f.n, rq.method, rq.path, "", rq.header...)
		if code != rq.status {
			t.Fatalf("%s: status %d, want %d: %s", rq.name, code, rq.status, body)
		}
		if rq.status == 200 && rq.name != "admin" && !strings.Contains(body, f.marker) && !strings.Contains(body, f.encoded()) {
			t.Fatalf("%s: the value is not in the answer: %s", rq.name, body)
		}
		all = append(all, sent{rq.name, id, rq.dialect, rq.action, rq.status, rq.outcome, rq.status != 401})
	}
	recs := auditRecords(t, f.ctx, f.n)
	if len(recs) != len(all) {
		t.Errorf("%d records for %d requests", len(recs), len(all))
	}
	for _, s := range all {
		r := byRequestID(t, recs, s.id)
		if r.Dialect != s.dialect || r.Action != s.action || r.Status != s.status || r.Outcome != s.outcome {
			t.Errorf("%s: record %s %q %d %s, want %s %q %d %s", s.name, r.Dialect, r.Action, r.Status, r.Outcome,
				s.dialect, s.action, s.status, s.outcome)
		}
		if r.UserAgent != "audit-test/1" || r.Source != "127.0.0.1" || r.Time.IsZero() {
			t.Errorf("%s: user agent %q, source %q, time %v", s.name, r.UserAgent, r.Source, r.Time)
		}
		if s.authenticated {
			if r.AccessKey != f.n.Creds.AccessKey || r.PrincipalID == "" || r.ProjectID != f.n.Creds.ProjectID ||
				r.OrganizationID != f.n.Creds.OrganizationID {
				t.Errorf("%s: access key %q, principal %q, project %q", s.name, r.AccessKey, r.PrincipalID, r.ProjectID)
			}
		} else if r.AccessKey != "" || r.PrincipalID != "" {
			t.Errorf("%s: a refused request names access key %q, principal %q", s.name, r.AccessKey, r.PrincipalID)
		}
		// The engine names the version it resolved "latest" to.
		if s.name == "scaleway" && (r.SecretID != f.id || r.Revision != "1" || r.Path != "test/db") {
			t.Errorf("%s: resource %q@%q", s.name, r.SecretID, r.Revision)
		}
		wantCode := map[string]string{"denied": coffer.EUNAUTHENTICATED, "not found": coffer.ENOTFOUND}[s.name]
		if r.ErrorCode != wantCode {
			t.Errorf("%s: error code %q, want %q", s.name, r.ErrorCode, wantCode)
		}
		if s.name == "vault" && r.Path != "test/db" {
			t.Errorf("%s: path %q", s.name, r.Path)
		}
	}
	// Nothing secret anywhere in the trail, as stored.
	dump := f.n.SQL(t).Dump(t)["audit_blocks"]
	if len(dump) == 0 {
		t.Fatal("no audit rows in the store")
	}
	for _, s := range []string{f.marker, f.encoded(), f.n.Creds.SecretKey, badToken} {
		if bytes.Contains(dump, []byte(s)) {
			t.Errorf("the audit trail holds %q", s)
		}
	}
	if v, err := f.n.Engine.VerifyAudit(f.ctx, nil); err != nil || !v.OK || v.Records != int64(len(recs)) {
		t.Fatalf("verify: %+v, %v", v, err)
	}
}

// rewrite tampers with the trail's records (nodetest.SQL.RewriteAudit).
func rewrite(edit func([]*coffer.AuditRecord) []*coffer.AuditRecord) func(*testing.T, *nodetest.SQL) {
	return func(t *testing.T, db *nodetest.SQL) { db.RewriteAudit(t, edit) }
}

// sqlTamper tampers with the stored rows with one statement.
func sqlTamper(query string, args ...any) func(*testing.T, *nodetest.SQL) {
	return func(t *testing.T, db *nodetest.SQL) {
		if _, err := db.Exec(query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
}

// TestAuditVerifyFindsTampering alters the stored trail as someone holding
// the database could, and checks that verify names the first bad record.
func TestAuditVerifyFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tamper   func(t *testing.T, db *nodetest.SQL)
		firstBad int64
	}{
		{"change a byte", rewrite(func(rs []*coffer.AuditRecord) []*coffer.AuditRecord {
			rs[3].UserAgent = "audit-test/2"
			return rs
		}), 4},
		{"change the outcome", rewrite(func(rs []*coffer.AuditRecord) []*coffer.AuditRecord {
			rs[5].Outcome, rs[5].Status = coffer.AuditDenied, 401
			return rs
		}), 6},
		{"delete one", rewrite(func(rs []*coffer.AuditRecord) []*coffer.AuditRecord { return slices.Delete(rs, 2, 3) }), 3},
		{"delete the last", rewrite(func(rs []*coffer.AuditRecord) []*coffer.AuditRecord { return rs[:7] }), 8},
		{"swap two", rewrite(func(rs []*coffer.AuditRecord) []*coffer.AuditRecord {
			rs[1], rs[4] = rs[4], rs[1]
			return rs
		}), 2},
		{"renumber after a delete", rewrite(func(rs []*coffer.AuditRecord) []*coffer.AuditRecord {
			rs[7].Seq = 7
			return slices.Delete(rs, 6, 7)
		}), 7},
		{"drop the head", sqlTamper(`DELETE FROM meta WHERE name = 'audit.head'`), 1},
		{"delete a block", sqlTamper(`DELETE FROM audit_blocks WHERE first_seq = 3`), 3},
		{"hide a block from time queries", sqlTamper(`UPDATE audit_blocks SET max_time = 0, min_time = 0 WHERE first_seq = 5`), 5},
		{"garble a block", sqlTamper(`UPDATE audit_blocks SET data = ? WHERE first_seq = 6`, []byte("cab1 not a record")), 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAuditFixture(t)
			for range 8 {
				if code, body, _ := auditCall(t, f.n, "GET", "/v1/secret/data/test/db", "", "X-Vault-Token", f.n.Creds.SecretKey); code != 200 {
					t.Fatalf("read: %d %s", code, body)
				}
			}
			if v, err := f.n.Engine.VerifyAudit(f.ctx, nil); err != nil || !v.OK || v.Records != 8 {
				t.Fatalf("verify before tampering: %+v, %v", v, err)
			}
			tc.tamper(t, f.n.SQL(t))
			v, err := f.n.Engine.VerifyAudit(f.ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.FirstBad != tc.firstBad || v.Problem == "" {
				t.Fatalf("verify: %+v, want record %d named", v, tc.firstBad)
			}
		})
	}
}

// TestAuditFailureFailsTheRequest makes the trail unwritable: requests
// must fail with a 500 in their dialect's format that holds no value, and
// leave no record; once the trail is back they succeed and the chain is
// intact.
func TestAuditFailureFailsTheRequest(t *testing.T) {
	f := newAuditFixture(t)
	db := f.n.SQL(t)
	if _, err := db.Exec(`ALTER TABLE audit_blocks RENAME TO audit_blocks_away`); err != nil {
		t.Fatal(err)
	}
	key := f.n.Creds.SecretKey
	for _, tc := range []struct {
		name, path, format string
		header             []string
	}{
		{"scaleway", "/secret-manager/v1beta1/regions/fr-par/secrets/" + f.id + "/versions/latest/access", `"type":`, []string{"X-Auth-Token", key}},
		{"vault", "/v1/secret/data/test/db", `"errors":[`, []string{"X-Vault-Token", key}},
		{"okms", "/api/" + f.n.Creds.ProjectID + "/v2/secret/test%2Fdb?includeData=true", `"error_code"`, []string{"Authorization", "Bearer " + key}},
		{"admin", "/coffer/v1/ca", `"error":`, []string{"Authorization", "Bearer " + key}},
	} {
		code, body, _ := auditCall(t, f.n, "GET", tc.path, "", tc.header...)
		if code != http.StatusInternalServerError {
			t.Errorf("%s: status %d, want 500: %s", tc.name, code, body)
		}
		if strings.Contains(body, f.marker) || strings.Contains(body, "password") {
			t.Errorf("%s: the failed answer leaks the value: %s", tc.name, body)
		}
		if !strings.Contains(body, tc.format) {
			t.Errorf("%s: body %s, want the dialect's error format (%s)", tc.name, body, tc.format)
		}
	}
	if _, err := db.Exec(`ALTER TABLE audit_blocks_away RENAME TO audit_blocks`); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := auditCall(t, f.n, "GET", "/v1/secret/data/test/db", "", "X-Vault-Token", key); code != 200 || !strings.Contains(body, f.marker) {
		t.Fatalf("after the trail is back: %d %s", code, body)
	}
	recs := auditRecords(t, f.ctx, f.n)
	if len(recs) != 1 || recs[0].Seq != 1 {
		t.Fatalf("%d records, want only the request made once the trail was back", len(recs))
	}
	if v, err := f.n.Engine.VerifyAudit(f.ctx, nil); err != nil || !v.OK {
		t.Fatalf("verify: %+v, %v", v, err)
	}
}

// TestAuditConcurrentRequestsKeepOneChain sends requests from several
// goroutines (to several nodes sharing one PostgreSQL database, when the
// backend is PostgreSQL) and checks that the trail is one linear chain with
// one record per request.
func TestAuditConcurrentRequestsKeepOneChain(t *testing.T) {
	f := newAuditFixture(t)
	nodes := []*nodetest.Node{f.n}
	if nodetest.Backend() == "postgres" {
		nodes = append(nodes, nodetest.Start(t, nodetest.WithStore(f.n.Store), nodetest.WithDataDir(f.n.DataDir, f.n.RootKey)))
	}
	const goroutines, each = 8, 25
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[string]bool{}
	)
	for g := range goroutines {
		wg.Go(func() {
			n := nodes[g%len(nodes)]
			for range each {
				code, body, id := auditCall(t, n, "GET", "/v1/secret/data/test/db", "", "X-Vault-Token", f.n.Creds.SecretKey)
				if code != 200 {
					t.Errorf("read: %d %s", code, body)
					return
				}
				mu.Lock()
				ids[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	recs := auditRecords(t, f.ctx, f.n)
	if len(recs) != goroutines*each {
		t.Fatalf("%d records for %d requests", len(recs), goroutines*each)
	}
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d has seq %d", i+1, r.Seq)
		}
		if i > 0 && !bytes.Equal(r.PrevHash, recs[i-1].Hash) {
			t.Fatalf("record %d does not follow record %d", r.Seq, recs[i-1].Seq)
		}
		delete(ids, r.RequestID)
	}
	if len(ids) != 0 {
		t.Fatalf("%d requests have no record", len(ids))
	}
	for i, n := range nodes {
		if v, err := n.Engine.VerifyAudit(f.ctx, nil); err != nil || !v.OK {
			t.Fatalf("verify on node %d: %+v, %v", i, v, err)
		}
	}
}
