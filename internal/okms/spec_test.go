package okms_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The node's clock: every timestamp is this second, in UTC with a "Z".
const now = "2026-07-03T15:27:54Z"

// TestSpecRequests replays, in order, the exact requests of spec §1.1 (what
// SecretApiV2 of okms-sdk-go sends: paths with %2F, paging headers, cas in
// the query) and compares whole answers: status, Content-Type, JSON body.
func TestSpecRequests(t *testing.T) {
	_, c, clock := start(t)
	meta := func(current int, maxVersions int) string {
		return `{"casRequired":false,"createdAt":"` + now + `","updatedAt":"` + now + `","currentVersion":` + strconv.Itoa(current) +
			`,"oldestVersion":0,"maxVersions":` + strconv.Itoa(maxVersions) + `,"deactivateVersionAfter":"0s","customMetadata":{}}`
	}

	// PostSecretV2
	body := c.ok(200, "POST", "/secret", `{"path":"a/b","version":{"data":{"k":"v"}}}`)
	wantJSON(t, "PostSecretV2", body, `{"path":"a/b","metadata":`+meta(1, 0)+`}`)

	// GetSecretV2(id, "a/b", &1, &true)
	body = c.ok(200, "GET", "/secret/a%2Fb?version=1&includeData=true", "")
	wantJSON(t, "GetSecretV2", body, `{"path":"a/b","metadata":`+meta(1, 0)+`,
		"version":{"id":1,"state":"active","createdAt":"`+now+`","data":{"k":"v"}}}`)

	// GetSecretV2 without a version nor data: the current version, no data.
	body = c.ok(200, "GET", "/secret/a%2Fb", "")
	wantJSON(t, "GetSecretV2 current", body, `{"path":"a/b","metadata":`+meta(1, 0)+`,
		"version":{"id":1,"state":"active","createdAt":"`+now+`"}}`)

	// ListSecretV2(id, &10, nil): one page, no next cursor.
	r := c.do("GET", "/secret", "", "X-Pagination-Size", "10")
	if r.Status != 200 {
		t.Fatalf("ListSecretV2: %d %s", r.Status, r.Body)
	}
	checkContentType(t, r)
	if _, ok := r.Header["X-Pagination-Cursor-Next"]; ok {
		t.Errorf("ListSecretV2: X-Pagination-Cursor-Next %q on the last page", r.Header.Get("X-Pagination-Cursor-Next"))
	}
	wantJSON(t, "ListSecretV2", r.Body, `[{"path":"a/b","metadata":`+meta(1, 0)+`}]`)

	// PutSecretV2(..., &1, ...) with a version.
	clock.Advance(time.Second)
	body = c.ok(200, "PUT", "/secret/a%2Fb?cas=1", `{"version":{"data":{"k":"v2"}}}`)
	wantJSON(t, "PutSecretV2", body, `{"path":"a/b","metadata":`+meta(2, 0)+`}`)

	// PutSecretV2 with metadata only: no version, no cas needed.
	body = c.ok(200, "PUT", "/secret/a%2Fb", `{"metadata":{"customMetadata":{"team":"ops"},"maxVersions":5}}`)
	m := object(t, body)
	if field(m, "metadata.customMetadata.team") != "ops" || str(field(m, "metadata.maxVersions")) != "5" || str(field(m, "metadata.currentVersion")) != "2" {
		t.Errorf("PutSecretV2 metadata: %s", body)
	}
	if u := str(field(m, "metadata.updatedAt")); u != "2026-07-03T15:27:55Z" {
		t.Errorf("PutSecretV2 metadata: updatedAt %q, want the time of the change", u)
	}

	// PostSecretVersionV2(..., &2, ...)
	clock.Advance(time.Second)
	body = c.ok(200, "POST", "/secret/a%2Fb/version?cas=2", `{"data":{"k":"v3"}}`)
	wantJSON(t, "PostSecretVersionV2", body, `{"id":3,"state":"active","createdAt":"2026-07-03T15:27:56Z"}`)

	// ListSecretVersionV2
	body = c.ok(200, "GET", "/secret/a%2Fb/version", "")
	wantJSON(t, "ListSecretVersionV2", body, `[
		{"id":1,"state":"active","createdAt":"`+now+`"},
		{"id":2,"state":"active","createdAt":"2026-07-03T15:27:55Z"},
		{"id":3,"state":"active","createdAt":"2026-07-03T15:27:56Z"}]`)

	// GetSecretVersionV2(..., 3, &true)
	body = c.ok(200, "GET", "/secret/a%2Fb/version/3?includeData=true", "")
	wantJSON(t, "GetSecretVersionV2", body, `{"id":3,"state":"active","createdAt":"2026-07-03T15:27:56Z","data":{"k":"v3"}}`)

	// PutSecretVersionV2(..., 3, deactivated)
	clock.Advance(time.Second)
	body = c.ok(200, "PUT", "/secret/a%2Fb/version/3", `{"state":"deactivated"}`)
	wantJSON(t, "PutSecretVersionV2", body, `{"id":3,"state":"deactivated","createdAt":"2026-07-03T15:27:56Z","deactivatedAt":"2026-07-03T15:27:57Z"}`)

	// GetSecretConfigV2, PutSecretConfigV2 with only the fields set.
	body = c.ok(200, "GET", "/secretConfig", "")
	wantJSON(t, "GetSecretConfigV2", body, `{"casRequired":false,"deactivateVersionAfter":"0s","maxVersions":10}`)
	body = c.ok(200, "PUT", "/secretConfig", `{"maxVersions":5}`)
	wantJSON(t, "PutSecretConfigV2", body, `{"casRequired":false,"deactivateVersionAfter":"0s","maxVersions":5}`)
	body = c.ok(200, "GET", "/secretConfig", "")
	wantJSON(t, "GetSecretConfigV2 after put", body, `{"casRequired":false,"deactivateVersionAfter":"0s","maxVersions":5}`)

	// DeleteSecretV2: 204, no body; the secret is gone, with error_code
	// 17125377, which External Secrets Operator matches.
	c.ok(204, "DELETE", "/secret/a%2Fb", "")
	msgs := c.fail(404, 17125377, "GET", "/secret/a%2Fb?includeData=true", "")
	if len(msgs) != 1 || !strings.Contains(msgs[0], "a/b") {
		t.Errorf("not found: %q, want a message naming the path", msgs)
	}
	c.fail(404, 17125377, "DELETE", "/secret/a%2Fb", "")
	c.fail(404, 17125377, "PUT", "/secret/a%2Fb", `{"version":{"data":{}}}`)
	c.fail(404, 17125377, "GET", "/secret/a%2Fb/version", "")
	c.fail(404, 17125377, "POST", "/secret/a%2Fb/version", `{"data":{}}`)
	c.fail(404, 17125377, "GET", "/secret/a%2Fb/version/1", "")
	c.fail(404, 17125377, "PUT", "/secret/a%2Fb/version/1", `{"state":"active"}`)
}

// TestRawSlashes: curl users and OVH's guide write paths with raw slashes;
// they name the same secrets, and a raw /version suffix names versions.
func TestRawSlashes(t *testing.T) {
	_, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"app/db/creds","version":{"data":{"user":"u"}}}`)
	c.ok(200, "POST", "/secret", `{"path":"app/version","version":{"data":{"v":"1"}}}`)

	for _, p := range []string{"/secret/app/db/creds", "/secret/app%2Fdb%2Fcreds", "/secret/app%2Fdb/creds", "/secret/app/db%2Fcreds"} {
		m := object(t, c.ok(200, "GET", p+"?includeData=true", ""))
		if field(m, "path") != "app/db/creds" || field(m, "version.data.user") != "u" {
			t.Errorf("GET %s: %v", p, m)
		}
	}
	for _, p := range []string{"/secret/app/db/creds/version", "/secret/app%2Fdb%2Fcreds/version"} {
		if a := array(t, c.ok(200, "GET", p, "")); len(a) != 1 {
			t.Errorf("GET %s: %v", p, a)
		}
	}
	for _, p := range []string{"/secret/app/db/creds/version/1", "/secret/app%2Fdb%2Fcreds/version/1"} {
		m := object(t, c.ok(200, "GET", p+"?includeData=true", ""))
		if field(m, "data.user") != "u" {
			t.Errorf("GET %s: %v", p, m)
		}
	}
	// A secret whose last segment is "version" is reached with its path
	// encoded; raw, "/version" names the versions of "app", which does not
	// exist.
	m := object(t, c.ok(200, "GET", "/secret/app%2Fversion?includeData=true", ""))
	if field(m, "path") != "app/version" || field(m, "version.data.v") != "1" {
		t.Errorf("GET app%%2Fversion: %v", m)
	}
	c.fail(404, 17125377, "GET", "/secret/app/version", "")
	if a := array(t, c.ok(200, "GET", "/secret/app%2Fversion/version", "")); len(a) != 1 {
		t.Errorf("versions of app/version: %v", a)
	}
	// A secret named "version" at the root needs no encoding.
	c.ok(200, "POST", "/secret", `{"path":"version","version":{"data":{}}}`)
	if m := object(t, c.ok(200, "GET", "/secret/version", "")); field(m, "path") != "version" {
		t.Errorf("GET version: %v", m)
	}
}

// TestPagination pages through secrets and versions with the SDK's headers
// and checks the opaque cursors.
func TestPagination(t *testing.T) {
	_, c, _ := start(t)
	want := map[string]bool{}
	for i := range 25 {
		p := "p/s" + strconv.Itoa(i)
		c.ok(200, "POST", "/secret", `{"path":"`+p+`","version":{"data":{}}}`)
		want[p] = true
	}
	got := map[string]bool{}
	cursor, pages := "", 0
	for {
		hdr := []string{"X-Pagination-Size", "10"}
		if cursor != "" {
			hdr = append(hdr, "X-Pagination-Cursor", cursor)
		}
		r := c.do("GET", "/secret", "", hdr...)
		if r.Status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
		}
		pages++
		items := array(t, r.Body)
		for _, it := range items {
			p := str(field(it, "path"))
			if got[p] {
				t.Errorf("%s listed twice", p)
			}
			got[p] = true
			if field(it, "metadata") == nil {
				t.Errorf("list item without metadata: %v", it)
			}
		}
		next := r.Header.Get("X-Pagination-Cursor-Next")
		if next == "" {
			if len(items) != 5 {
				t.Errorf("last page has %d items, want 5", len(items))
			}
			break
		}
		if len(items) != 10 {
			t.Errorf("page %d has %d items, want 10", pages, len(items))
		}
		cursor = next
		if pages > 5 {
			t.Fatal("too many pages")
		}
	}
	if pages != 3 || len(got) != len(want) {
		t.Errorf("%d pages, %d secrets; want 3 pages, %d secrets", pages, len(got), len(want))
	}

	// Sizes are clamped to 10..100, not refused; no header means 100.
	for size, n := range map[string]int{"": 25, "1": 10, "0": 10, "-5": 10, "500": 25, "100": 25} {
		var hdr []string
		if size != "" {
			hdr = []string{"X-Pagination-Size", size}
		}
		r := c.do("GET", "/secret", "", hdr...)
		if r.Status != 200 || len(array(t, r.Body)) != n {
			t.Errorf("size %q: %d, %d items, want %d", size, r.Status, len(array(t, r.Body)), n)
		}
	}

	// Versions page the same way, oldest first.
	c.ok(200, "PUT", "/secret/p%2Fs0", `{"metadata":{"maxVersions":30}}`)
	for range 14 {
		c.ok(200, "POST", "/secret/p%2Fs0/version", `{"data":{}}`)
	}
	r := c.do("GET", "/secret/p%2Fs0/version", "", "X-Pagination-Size", "10")
	first := array(t, r.Body)
	next := r.Header.Get("X-Pagination-Cursor-Next")
	if len(first) != 10 || next == "" || str(field(first[0], "id")) != "1" {
		t.Fatalf("first page of versions: %d items, next %q: %s", len(first), next, r.Body)
	}
	r = c.do("GET", "/secret/p%2Fs0/version", "", "X-Pagination-Size", "10", "X-Pagination-Cursor", next)
	second := array(t, r.Body)
	if len(second) != 5 || r.Header.Get("X-Pagination-Cursor-Next") != "" || str(field(second[0], "id")) != "11" {
		t.Errorf("second page of versions: %s, next %q", r.Body, r.Header.Get("X-Pagination-Cursor-Next"))
	}
	for _, v := range append(first, second...) {
		if field(v, "data") != nil {
			t.Errorf("a listed version has data: %v", v)
		}
	}
}

// TestPruning: oldestVersion stays 0 until versions are pruned, then names
// the oldest version kept.
func TestPruning(t *testing.T) {
	_, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"pruned","version":{"data":{"n":"1"}},"metadata":{"maxVersions":3}}`)
	for range 3 {
		c.ok(200, "PUT", "/secret/pruned", `{"version":{"data":{"n":"x"}}}`)
	}
	m := object(t, c.ok(200, "GET", "/secret/pruned", ""))
	if str(field(m, "metadata.currentVersion")) != "4" || str(field(m, "metadata.oldestVersion")) != "2" {
		t.Errorf("after pruning: %v", field(m, "metadata"))
	}
	c.fail(404, 17125377, "GET", "/secret/pruned/version/1", "")
	if a := array(t, c.ok(200, "GET", "/secret/pruned/version", "")); len(a) != 3 {
		t.Errorf("%d versions kept, want 3", len(a))
	}
}

// TestDeletedVersion: a deleted version keeps its metadata, loses its data
// for good and cannot come back.
func TestDeletedVersion(t *testing.T) {
	_, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"d","version":{"data":{"k":"v"}}}`)
	c.ok(200, "PUT", "/secret/d", `{"version":{"data":{"k":"v2"}}}`)
	m := object(t, c.ok(200, "PUT", "/secret/d/version/2", `{"state":"deleted"}`))
	if field(m, "state") != "deleted" || field(m, "data") != nil {
		t.Errorf("deleted: %v", m)
	}
	m = object(t, c.ok(200, "GET", "/secret/d?includeData=true", ""))
	if str(field(m, "metadata.currentVersion")) != "2" || field(m, "version.state") != "deleted" || field(m, "version.data") != nil {
		t.Errorf("GET after delete: %v", m)
	}
	c.fail(400, 50405377, "PUT", "/secret/d/version/2", `{"state":"active"}`)
	c.fail(400, 50405377, "PUT", "/secret/d/version/2", `{"state":"deactivated"}`)
	// Deleting again changes nothing.
	c.ok(200, "PUT", "/secret/d/version/2", `{"state":"deleted"}`)
	// Deactivated and back.
	c.ok(200, "PUT", "/secret/d/version/1", `{"state":"deactivated"}`)
	m = object(t, c.ok(200, "PUT", "/secret/d/version/1", `{"state":"active"}`))
	if field(m, "state") != "active" || field(m, "deactivatedAt") != nil {
		t.Errorf("reactivated: %v", m)
	}
	m = object(t, c.ok(200, "GET", "/secret/d/version/1?includeData=true", ""))
	if field(m, "data.k") != "v" {
		t.Errorf("reactivated data: %v", m)
	}
	// cas is checked against currentVersion, which a deleted version does
	// not lower.
	c.fail(400, 50405377, "POST", "/secret/d/version?cas=1", `{"data":{}}`)
	c.ok(200, "POST", "/secret/d/version?cas=2", `{"data":{}}`)
}

// TestCAS covers cas and casRequired at secret and domain level.
func TestCAS(t *testing.T) {
	_, c, _ := start(t)
	c.ok(200, "POST", "/secret", `{"path":"c","version":{"data":{}},"metadata":{"casRequired":true}}`)
	msgs := c.fail(400, 50405377, "PUT", "/secret/c", `{"version":{"data":{}}}`)
	if !strings.Contains(strings.Join(msgs, " "), "check-and-set parameter required") {
		t.Errorf("missing cas: %q", msgs)
	}
	msgs = c.fail(400, 50405377, "POST", "/secret/c/version?cas=0", `{"data":{}}`)
	if !strings.Contains(strings.Join(msgs, " "), "did not match the current version") {
		t.Errorf("wrong cas: %q", msgs)
	}
	c.ok(200, "POST", "/secret/c/version?cas=1", `{"data":{}}`)
	// Metadata-only updates need no cas.
	c.ok(200, "PUT", "/secret/c", `{"metadata":{"customMetadata":{"a":"b"}}}`)

	// Domain-level casRequired applies to every secret, and not to a
	// create, which has no cas parameter.
	c.ok(200, "PUT", "/secretConfig", `{"casRequired":true}`)
	c.ok(200, "POST", "/secret", `{"path":"c2","version":{"data":{}}}`)
	c.fail(400, 50405377, "POST", "/secret/c2/version", `{"data":{}}`)
	c.ok(200, "POST", "/secret/c2/version?cas=1", `{"data":{}}`)
	m := object(t, c.ok(200, "GET", "/secretConfig", ""))
	if field(m, "casRequired") != true {
		t.Errorf("config: %v", m)
	}
}

// TestDurations: deactivateVersionAfter round-trips in Vault's syntax, and
// versions are deactivated that long after they were written.
func TestDurations(t *testing.T) {
	n, c, clock := start(t)
	for in, out := range map[string]string{
		"1d": "1d", "10h30m10s": "10h30m10s", "90m": "1h30m", "36h": "36h", "3600": "1h", "0s": "0s", "": "0s", "48h": "2d",
	} {
		m := object(t, c.ok(200, "PUT", "/secretConfig", `{"deactivateVersionAfter":"`+in+`"}`))
		if got := field(m, "deactivateVersionAfter"); got != out {
			t.Errorf("deactivateVersionAfter %q: echoed %q, want %q", in, got, out)
		}
	}
	c.ok(200, "PUT", "/secretConfig", `{"deactivateVersionAfter":"0s"}`)
	c.ok(200, "POST", "/secret", `{"path":"ttl","version":{"data":{"k":"v"}},"metadata":{"deactivateVersionAfter":"1h"}}`)
	clock.Advance(time.Hour)
	if _, err := n.Engine.RunDue(callerContext(t, n)); err != nil {
		t.Fatal(err)
	}
	m := object(t, c.ok(200, "GET", "/secret/ttl?includeData=true", ""))
	if field(m, "version.state") != "deactivated" || field(m, "version.data") != nil || field(m, "version.deactivatedAt") != "2026-07-03T16:27:54Z" {
		t.Errorf("after the TTL: %v", field(m, "version"))
	}
}

// TestStatuses checks the exact success statuses and Content-Type of every
// operation, with the SDK's encodings.
func TestStatuses(t *testing.T) {
	_, c, _ := start(t)
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/secret", `{"path":"s/t","version":{"data":{"a":"b"}}}`, 200},
		{"GET", "/secret", "", 200},
		{"GET", "/secret/s%2Ft", "", 200},
		{"PUT", "/secret/s%2Ft", `{"metadata":{"casRequired":false}}`, 200},
		{"GET", "/secret/s%2Ft/version", "", 200},
		{"POST", "/secret/s%2Ft/version", `{"data":{"a":"c"}}`, 200},
		{"GET", "/secret/s%2Ft/version/1", "", 200},
		{"PUT", "/secret/s%2Ft/version/1", `{"state":"deactivated"}`, 200},
		{"GET", "/secretConfig", "", 200},
		{"PUT", "/secretConfig", `{}`, 200},
		{"DELETE", "/secret/s%2Ft", "", 204},
	} {
		r := c.do(tc.method, tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, r.Status, tc.status, r.Body)
			continue
		}
		if tc.status == http.StatusNoContent {
			if len(r.Body) != 0 {
				t.Errorf("%s %s: 204 with a body", tc.method, tc.path)
			}
			continue
		}
		checkContentType(t, r)
	}
}
