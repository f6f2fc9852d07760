package node_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/adminapi"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// noTimedFlush keeps a test node from flushing access times on its own, so
// that the test decides when they reach the store.
func noTimedFlush(c *node.Config) { c.AccessFlushInterval = time.Hour }

// accessedVersions reads GET /coffer/v1/secrets/{id}/versions with token,
// and returns the status and the page.
func accessedVersions(t *testing.T, n *nodetest.Node, token, secretID string) (int, adminapi.VersionPage) {
	t.Helper()
	w := call(t, n, "okms", token, "GET", "/coffer/v1/secrets/"+secretID+"/versions", "")
	var page adminapi.VersionPage
	if w.status == http.StatusOK {
		if err := json.Unmarshal([]byte(w.body), &page); err != nil {
			t.Fatalf("versions page %s: %v", w.body, err)
		}
	}
	return w.status, page
}

// accessedAt returns each revision's accessed_at as the admin API shows it.
func accessedAt(t *testing.T, n *nodetest.Node, secretID string) map[uint32]*time.Time {
	t.Helper()
	status, page := accessedVersions(t, n, n.Creds.SecretKey, secretID)
	if status != http.StatusOK {
		t.Fatalf("GET versions of %s: %d", secretID, status)
	}
	out := map[uint32]*time.Time{}
	for _, v := range page.Versions {
		out[v.Revision] = v.AccessedAt
	}
	return out
}

// storedAccess returns a version's accessed_at as the store holds it.
func storedAccess(t *testing.T, db *nodetest.SQL, secretID string, rev uint32) *time.Time {
	t.Helper()
	var us sql.NullInt64
	if err := db.QueryRow(`SELECT accessed_at FROM versions WHERE secret_id = ? AND revision = ?`, secretID, rev).Scan(&us); err != nil {
		t.Fatalf("accessed_at of %s/%d: %v", secretID, rev, err)
	}
	if !us.Valid {
		return nil
	}
	tm := time.UnixMicro(us.Int64).UTC()
	return &tm
}

// sameTime fails unless got is want (nil for never).
func sameTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	if (got == nil) != (want == nil) || (got != nil && !got.Equal(*want)) {
		t.Errorf("%s: accessed_at %v, want %v", what, got, want)
	}
}

// TestAccessedAt: reads through Scaleway and Vault KV show as the accessed_at
// of the revision read, at once through the admin API and in the store only
// once flushed; an older time never replaces a newer one, a vanished
// version does not break a flush, and Close flushes what is left.
func TestAccessedAt(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, nodetest.WithNow(clock.Now), noTimedFlush)
	admin := as(t, n)
	project := n.Creds.ProjectID
	s := seed(t, n, admin, project, "db") // /team/db, revision 1
	for _, data := range []string{`{"v":2}`, `{"v":3}`} {
		if _, _, err := n.Engine.CreateVersion(admin, s.ID, coffer.VersionCreate{Data: coffer.Payload(data)}); err != nil {
			t.Fatal(err)
		}
	}
	gone := seed(t, n, admin, project, "gone")
	db := n.SQL(t)
	var updatedBefore int64
	if err := db.QueryRow(`SELECT updated_at FROM versions WHERE secret_id = ? AND revision = 1`, s.ID).Scan(&updatedBefore); err != nil {
		t.Fatal(err)
	}

	t0 := clock.Now().UTC().Truncate(time.Microsecond)
	if w := call(t, n, "vault", n.Creds.SecretKey, "GET", "/v1/secret/data/team/db?version=1", ""); w.status != http.StatusOK {
		t.Fatalf("Vault read: %d %s", w.status, w.body)
	}
	clock.Advance(time.Minute)
	t1 := t0.Add(time.Minute)
	if w := call(t, n, "scaleway", n.Creds.SecretKey, "GET", scwBase+"/secrets/"+s.ID+"/versions/latest/access", ""); w.status != http.StatusOK {
		t.Fatalf("Scaleway read: %d %s", w.status, w.body)
	}
	if w := call(t, n, "scaleway", n.Creds.SecretKey, "GET", scwBase+"/secrets/"+gone.ID+"/versions/1/access", ""); w.status != http.StatusOK {
		t.Fatalf("Scaleway read: %d %s", w.status, w.body)
	}

	// On this node the admin API shows the reads at once...
	got := accessedAt(t, n, s.ID)
	sameTime(t, "revision 1, read through Vault", got[1], &t0)
	sameTime(t, "revision 2, never read", got[2], nil)
	sameTime(t, "revision 3, read through Scaleway", got[3], &t1)
	// ...but nothing was written: a read is one read transaction.
	for rev := uint32(1); rev <= 3; rev++ {
		sameTime(t, "stored before the flush", storedAccess(t, db, s.ID, rev), nil)
	}

	// The version read in "gone" vanishes before the flush; another node
	// read revision 3 later than this one did.
	if _, err := db.Exec(`DELETE FROM versions WHERE secret_id = ?`, gone.ID); err != nil {
		t.Fatal(err)
	}
	later := t1.Add(time.Hour)
	if _, err := db.Exec(`UPDATE versions SET accessed_at = ? WHERE secret_id = ? AND revision = 3`, later.UnixMicro(), s.ID); err != nil {
		t.Fatal(err)
	}
	if err := n.Engine.FlushAccessTimes(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	sameTime(t, "revision 1 stored", storedAccess(t, db, s.ID, 1), &t0)
	sameTime(t, "revision 2 stored", storedAccess(t, db, s.ID, 2), nil)
	sameTime(t, "revision 3 stored: the newer time stays", storedAccess(t, db, s.ID, 3), &later)
	var updatedAfter int64
	if err := db.QueryRow(`SELECT updated_at FROM versions WHERE secret_id = ? AND revision = 1`, s.ID).Scan(&updatedAfter); err != nil {
		t.Fatal(err)
	}
	if updatedAfter != updatedBefore {
		t.Errorf("the flush changed updated_at: %d, was %d", updatedAfter, updatedBefore)
	}
	sameTime(t, "revision 3 through the API after the flush", accessedAt(t, n, s.ID)[3], &later)

	// A read after the flush, then a clean stop: Close writes it, and a
	// fresh node on the same data finds it.
	clock.Advance(time.Minute)
	t2 := t1.Add(time.Minute)
	if _, err := read(admin, n, s.ID, coffer.RevisionN(2)); err != nil {
		t.Fatal(err)
	}
	n.Stop(t)
	n2 := nodetest.Start(t, nodetest.WithDataDir(n.DataDir, n.RootKey), nodetest.WithStore(n.Store), noTimedFlush)
	got = accessedAt(t, n2, s.ID)
	sameTime(t, "revision 1 after restart", got[1], &t0)
	sameTime(t, "revision 2 after restart", got[2], &t2)
	sameTime(t, "revision 3 after restart", got[3], &later)
}

// TestAccessedAtFailedFlushKeepsTimes: a flush that fails keeps the times
// for the next one, which writes them.
func TestAccessedAtFailedFlushKeepsTimes(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, nodetest.WithNow(clock.Now), noTimedFlush)
	admin := as(t, n)
	s := seed(t, n, admin, n.Creds.ProjectID, "db")
	if _, err := read(admin, n, s.ID, coffer.Latest); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Engine.FlushAccessTimes(canceled); err == nil {
		t.Fatal("a flush with a canceled context succeeded")
	}
	db := n.SQL(t)
	sameTime(t, "after a failed flush", storedAccess(t, db, s.ID, 1), nil)
	want := clock.Now().UTC()
	sameTime(t, "through the API after a failed flush", accessedAt(t, n, s.ID)[1], &want)
	if err := n.Engine.FlushAccessTimes(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameTime(t, "after the next flush", storedAccess(t, db, s.ID, 1), &want)
}

// TestAccessedAtReadsDoNotWrite: reads commit nothing to the store; the
// flush is the one write. SQLite's data_version, read on one connection,
// changes exactly when another connection commits.
func TestAccessedAtReadsDoNotWrite(t *testing.T) {
	if nodetest.Backend() != "sqlite" {
		t.Skip("counts SQLite commits; TestAccessedAt checks the store on every backend")
	}
	n := nodetest.Start(t, noTimedFlush)
	admin := as(t, n)
	s := seed(t, n, admin, n.Creds.ProjectID, "db")
	raw, err := sql.Open("sqlite", filepath.Join(n.DataDir, node.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	version := func() int64 {
		t.Helper()
		var v int64
		if err := conn.QueryRowContext(t.Context(), `PRAGMA data_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := version()
	for range 50 {
		if _, err := read(admin, n, s.ID, coffer.Latest); err != nil {
			t.Fatal(err)
		}
	}
	if after := version(); after != before {
		t.Fatalf("50 reads committed to the store: data_version %d -> %d", before, after)
	}
	if err := n.Engine.FlushAccessTimes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := version(); after == before {
		t.Fatal("the flush committed nothing")
	}
}

// TestAccessedAtRights: reading access times needs the right to list
// versions, not to read values; another project's secret is 404.
func TestAccessedAtRights(t *testing.T) {
	n := nodetest.Start(t, noTimedFlush)
	admin := as(t, n)
	a := n.Creds.ProjectID
	s := seed(t, n, admin, a, "db")
	if _, err := read(admin, n, s.ID, coffer.Latest); err != nil {
		t.Fatal(err)
	}
	readOnly := grant(t, n, admin, a, "/", coffer.SecretManagerReadOnly)
	status, page := accessedVersions(t, n, readOnly.key.SecretKey, s.ID)
	if status != http.StatusOK || len(page.Versions) != 1 || page.TotalCount != 1 || page.Versions[0].AccessedAt == nil {
		t.Fatalf("ReadOnly: %d %+v, want the version with its accessed_at", status, page)
	}
	if w := call(t, n, "scaleway", readOnly.key.SecretKey, "GET", scwBase+"/secrets/"+s.ID+"/versions/latest/access", ""); w.status != http.StatusForbidden {
		t.Fatalf("ReadOnly reading the value: %d, want 403", w.status)
	}

	pb, err := n.Engine.CreateProject(admin, "b")
	if err != nil {
		t.Fatal(err)
	}
	other := grant(t, n, admin, pb.ID, "/", coffer.SecretManagerFullAccess)
	if status, _ := accessedVersions(t, n, other.key.SecretKey, s.ID); status != http.StatusNotFound {
		t.Fatalf("a principal of another project: %d, want 404", status)
	}
	if status, _ := accessedVersions(t, n, n.Creds.SecretKey, "00000000-0000-0000-0000-000000000000"); status != http.StatusNotFound {
		t.Fatalf("no such secret: %d, want 404", status)
	}
	if status, _ := accessedVersions(t, n, n.Creds.SecretKey, "not-an-id"); status != http.StatusBadRequest {
		t.Fatalf("a malformed id: %d, want 400", status)
	}
}
