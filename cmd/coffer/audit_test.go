package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"

	"github.com/coffer-dev/coffer/internal/adminapi"
)

func TestAudit(t *testing.T) {
	c, n := newCLI(t)
	c.ok("secret", "create", "--name", "audited")
	c.ok("version", "create", "--secret", "/audited", "--data", "s3cr3t-audit-value")
	c.ok("secret", "list")

	out := c.ok("audit", "tail", "-n", "5")
	mustContain(t, out, "SEQ", "scaleway", "POST /secret-manager/v1beta1/regions/{region}/secrets", "ok")
	mustNotContain(t, out, "s3cr3t-audit-value", n.Creds.SecretKey)

	recs := decode[[]adminapi.AuditRecord](t, c.ok("audit", "query", "--json", "--outcome", "ok", "--limit", "0"))
	if len(recs) < 3 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		if i > 0 && r.Seq <= recs[i-1].Seq {
			t.Fatalf("records out of order: %d after %d", r.Seq, recs[i-1].Seq)
		}
		if r.Outcome != "ok" || r.Hash == "" {
			t.Fatalf("record %+v", r)
		}
	}
	one := decode[[]adminapi.AuditRecord](t, c.ok("audit", "query", "--json", "--after", "1", "--limit", "1"))
	if len(one) != 1 || one[0].Seq != 2 {
		t.Fatalf("--after 1 --limit 1: %+v", one)
	}

	// The example of --action's help matches the records of its route.
	req, err := http.NewRequest("GET", n.URL+"/v1/secret/data/audited", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", n.Creds.SecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	help := c.ok("audit", "query", "-h")
	_, example, _ := strings.Cut(help, `e.g. "`)
	example, _, _ = strings.Cut(example, `"`)
	byAction := decode[[]adminapi.AuditRecord](t, c.ok("audit", "query", "--json", "--action", example))
	if example != "GET /v1/secret/data/{path...}" || len(byAction) != 1 || byAction[0].Path != "audited" {
		t.Fatalf("--action %q (the example of its help): %+v", example, byAction)
	}

	out = c.ok("audit", "verify")
	mustContain(t, out, "ok: ", "intact", "head: ")
	_, anchor, _ := strings.Cut(strings.TrimSpace(out), "head: ")

	// Offline, on the database itself: the same answer, anchor included.
	offline := []string{"audit", "verify", "--offline", "--data-dir", n.DataDir, "--store", n.Store, "--anchor", anchor}
	mustContain(t, c.ok(offline...), "ok: ", "intact", "head: ")
	c.fail(2, "audit", "verify", "--anchor", "12:zz")

	// The whole chain rebuilt with one record changed: it verifies, but
	// not against the anchor, online or offline.
	n.SQL(t).RechainAudit(t, func(recs []*coffer.AuditRecord) []*coffer.AuditRecord {
		recs[0].UserAgent = "someone else"
		return recs
	})
	mustContain(t, c.ok("audit", "verify"), "ok: ", "intact")
	anchorSeq, _, _ := strings.Cut(anchor, ":")
	for _, args := range [][]string{{"audit", "verify", "--anchor", anchor}, offline} {
		if out := c.fail(1, args...); !strings.Contains(out, "BROKEN at record "+anchorSeq+":") || !strings.Contains(out, "anchored") {
			t.Fatalf("%v after the chain was rebuilt: %q", args, out)
		}
	}

	n.SQL(t).RewriteAudit(t, func(recs []*coffer.AuditRecord) []*coffer.AuditRecord {
		recs[1].PrincipalID = "someone else"
		return recs
	})
	out = c.fail(1, "audit", "verify")
	if !strings.Contains(out, "BROKEN at record 2:") {
		t.Fatalf("verify after tampering: %q", out)
	}
	c.fail(2, "audit", "query", "--from", "yesterday")
}
