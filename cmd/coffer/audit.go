package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/adminapi"
	"github.com/coffer-dev/coffer/internal/node"
)

const auditUsage = `Usage: coffer audit COMMAND [flags]

Commands:
  tail     print the newest records of the audit trail
  query    print the records that match filters, oldest first
  verify   check the hash chain of the whole trail

Every request that reaches an API leaves one record: who, what, on which
secret, how it ended. The records form a hash chain; verify walks it on the
server (GET /coffer/v1/audit/verify), or with --offline in the database
itself, and names the first record that was altered, removed or reordered.
It exits with status 1 when the chain is broken.

Reading the trail needs the AuditReader permission set (or an admin).
`

func cmdAuditTail(ctx context.Context, e *env, args []string) error {
	f := e.flags("audit tail", "[-n 20]", "Print the newest records of the audit trail, oldest first.", true)
	n := f.Int("n", 20, "how many records (1 to 1000)")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	if *n < 1 || *n > 1000 {
		return f.usageErrorf("-n must be between 1 and 1000")
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	var page adminapi.AuditPage
	q := url.Values{"order": {"desc"}, "page_size": {strconv.Itoa(*n)}}
	if err := a.call(ctx, http.MethodGet, "/audit?"+q.Encode(), nil, &page); err != nil {
		return callError("read audit trail", err)
	}
	slices.Reverse(page.Records)
	return printAudit(e.stdout, page.Records, *f.jsonOut)
}

func cmdAuditQuery(ctx context.Context, e *env, args []string) error {
	f := e.flags("audit query", "[--from TIME] [--to TIME] [--principal ID] [--secret ID] [--action ACTION] [--outcome ok|denied|error] [--after SEQ] [--limit N]", `
Print the audit records that match every filter given, oldest first. Times
are RFC 3339 ("2026-11-22T10:00:00Z") or a duration before now ("1h").`, true)
	var (
		from      = f.String("from", "", "records at or after this time")
		to        = f.String("to", "", "records before this time")
		principal = f.String("principal", "", "records of this principal id")
		secretID  = f.String("secret", "", "records on this secret id")
		action    = f.String("action", "", `records of this route, e.g. "GET /v1/secret/data/{path...}" (the method and the route as records show it)`)
		outcome   = f.String("outcome", "", "ok, denied or error")
		after     = f.Int64("after", 0, "records after this sequence number")
		limit     = f.Int("limit", 100, "at most this many records (0: all)")
	)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	q := url.Values{}
	for name, v := range map[string]string{"from": *from, "to": *to} {
		if v == "" {
			continue
		}
		t, err := parseWhen(v, time.Now())
		if err != nil {
			return f.usageErrorf("--%s: %v", name, err)
		}
		q.Set(name, t.UTC().Format(time.RFC3339Nano))
	}
	for name, v := range map[string]string{"principal_id": *principal, "secret_id": *secretID, "action": *action, "outcome": *outcome} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if *limit < 0 {
		return f.usageErrorf("--limit must not be negative")
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	var out []adminapi.AuditRecord
	next := *after
	for *limit == 0 || len(out) < *limit {
		size := 1000
		if *limit > 0 {
			size = min(size, *limit-len(out))
		}
		q.Set("page_size", strconv.Itoa(size))
		q.Set("after", strconv.FormatInt(next, 10))
		var page adminapi.AuditPage
		if err := a.call(ctx, http.MethodGet, "/audit?"+q.Encode(), nil, &page); err != nil {
			return callError("query audit trail", err)
		}
		out = append(out, page.Records...)
		if page.Next == 0 {
			break
		}
		next = page.Next
	}
	return printAudit(e.stdout, out, *f.jsonOut)
}

// parseWhen reads an RFC 3339 time or a duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return now.Add(-d), nil
}

func cmdAuditVerify(ctx context.Context, e *env, args []string) error {
	f := e.flags("audit verify", "[--anchor SEQ:HASH] [--offline [--store URL]]", `
Check the hash chain of the whole audit trail. Prints the number of records
checked and the chain's head (SEQ:HASH), or the first record that was
altered, removed or reordered, and then exits with status 1.

Keep the head somewhere the database's holders cannot write (a ticket, a
log service, paper): a later run with --anchor SEQ:HASH checks that the
record SEQ still has that hash, which a trail rebuilt as a whole would not.

By default the server walks the chain. With --offline this command reads
the database itself, with no server, credentials or root key: the SQLite
database in --data-dir, or the PostgreSQL database of --store (default
$COFFER_STORE).`, true)
	offline := f.Bool("offline", false, "read the database directly instead of asking the server")
	store := f.String("store", e.getenv("COFFER_STORE"), "with --offline: the postgres:// URL of a PostgreSQL store (env COFFER_STORE)")
	anchorFlag := f.String("anchor", "", "a head printed by an earlier run, SEQ:HASH, that must still be in the chain")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	var anchor *coffer.AuditAnchor
	if *anchorFlag != "" {
		if anchor, err = adminapi.ParseAnchor(*anchorFlag); err != nil {
			return f.usageErrorf("--anchor must be SEQ:HASH, as verify prints the head")
		}
	}
	var v adminapi.AuditVerification
	if *offline {
		dataDir := *f.dataDir
		if dataDir == "" {
			dataDir = cmp.Or(e.getenv("COFFER_DATA_DIR"), "coffer-data")
		}
		got, err := node.VerifyAudit(ctx, node.Config{DataDir: dataDir, Store: *store}, anchor)
		if err != nil {
			return err
		}
		v = adminapi.NewAuditVerification(got)
	} else {
		a, err := e.admin(*f.dataDir)
		if err != nil {
			return err
		}
		path := "/audit/verify"
		if *anchorFlag != "" {
			path += "?" + url.Values{"anchor": {*anchorFlag}}.Encode()
		}
		if err := a.call(ctx, http.MethodGet, path, nil, &v); err != nil {
			return callError("verify audit trail", err)
		}
	}
	switch {
	case *f.jsonOut:
		if err := printJSON(e.stdout, v); err != nil {
			return err
		}
		if !v.OK {
			return exitStatus(1)
		}
	case v.OK:
		fmt.Fprintf(e.stdout, "ok: %d records, the chain is intact\nhead: %d:%s\n", v.Records, v.HeadSeq, v.HeadHash)
	default:
		return fmt.Errorf("the audit chain is BROKEN at record %d: %s (the %d records before it are intact)",
			v.FirstBad, clean(v.Problem), v.Records)
	}
	return nil
}

// printAudit prints records as a table, or as JSON.
func printAudit(w io.Writer, recs []adminapi.AuditRecord, asJSON bool) error {
	if asJSON {
		if recs == nil {
			recs = []adminapi.AuditRecord{}
		}
		return printJSON(w, recs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tOUTCOME\tSTATUS\tDIALECT\tACTION\tPRINCIPAL\tRESOURCE\tSOURCE\tREQUEST")
	for _, r := range recs {
		resource := r.SecretID
		if resource == "" {
			resource = r.Path
		}
		if r.Revision != "" {
			resource += "@" + r.Revision
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.UTC().Format(time.RFC3339),
			r.Outcome, r.Status, r.Dialect, clean(r.Action), orDash(r.PrincipalID), orDash(clean(resource)),
			orDash(r.Source), r.RequestID)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
