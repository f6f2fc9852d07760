package node_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
)

// TestAuditHangups sends writes whose clients reset the connection right
// after sending them: whatever each write became, every version that
// committed has exactly one record, an ok one, and no committed version is
// recorded as failed. The records of changes commit with them, and the
// server writes a request's record whatever its client does.
func TestAuditHangups(t *testing.T) {
	f := newAuditFixture(t)
	u, err := url.Parse(f.n.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Keep every version, to check each one's record.
	maxVersions := 1000
	if _, err := f.n.Engine.UpdateSecret(f.ctx, f.id, coffer.SecretUpdate{MaxVersions: &maxVersions}); err != nil {
		t.Fatal(err)
	}
	const writes = 300
	body := `{"data":"eyJrIjoiaGFuZy11cCJ9"}` // {"k":"hang-up"}
	req := fmt.Sprintf("POST /secret-manager/v1beta1/regions/fr-par/secrets/%s/versions HTTP/1.1\r\nHost: %s\r\n"+
		"X-Auth-Token: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		f.id, u.Host, f.n.Creds.SecretKey, len(body), body)
	lastRevision := func() uint32 {
		s, err := f.n.Engine.GetSecret(f.ctx, f.id)
		if err != nil {
			t.Error(err)
			return 0
		}
		return s.LastRevision
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range writes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Error(err)
				return
			}
			before := lastRevision()
			if _, err := c.Write([]byte(req)); err != nil {
				t.Error(err)
			}
			if i%3 != 0 {
				// Hang up at once, with a reset, a third of the time;
				// else once a write has committed (this one, often),
				// which is when its record is being written.
				for deadline := time.Now().Add(300 * time.Millisecond); lastRevision() == before && time.Now().Before(deadline); {
					time.Sleep(100 * time.Microsecond)
				}
			}
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		}()
	}
	wg.Wait()

	var (
		committed []*coffer.Version
		byRev     map[string][]*coffer.AuditRecord
	)
	settled := func() bool {
		vs, _, err := f.n.Engine.ListVersions(f.ctx, f.id, coffer.VersionFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		committed = vs
		byRev = map[string][]*coffer.AuditRecord{}
		for _, r := range auditRecords(t, f.ctx, f.n) {
			if r.SecretID == f.id && r.Action == "POST /secret-manager/v1beta1/regions/{region}/secrets/{secret_id}/versions" {
				byRev[r.Revision] = append(byRev[r.Revision], r)
			}
		}
		for _, v := range committed {
			found := false
			for _, r := range byRev[strconv.Itoa(int(v.Revision))] {
				found = found || r.Outcome == coffer.AuditOK
			}
			if v.Revision > 1 && !found {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(10 * time.Second)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(committed) < 2 {
		t.Fatalf("no write committed: %d versions", len(committed))
	}
	for _, v := range committed {
		if v.Revision == 1 {
			continue // the fixture's own
		}
		// A write that failed (its client left before it committed)
		// is recorded as failed, naming the revision it tried to write:
		// the one whose write did commit has one ok record.
		var ok []*coffer.AuditRecord
		for _, r := range byRev[strconv.Itoa(int(v.Revision))] {
			if r.Outcome == coffer.AuditOK {
				ok = append(ok, r)
			}
		}
		if len(ok) != 1 || ok[0].Status >= 400 {
			t.Errorf("revision %d: %d ok records, want one", v.Revision, len(ok))
		}
	}
	t.Logf("%d of %d writes committed before or despite the hang-up", len(committed)-1, writes)
	if v, err := f.n.Engine.VerifyAudit(f.ctx, nil); err != nil || !v.OK {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	_ = context.Background
}
