package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"

	"github.com/coffer-dev/coffer/internal/adminapi"
)

func cmdVersionAccessed(ctx context.Context, e *env, args []string) error {
	f, secretFlag := e.versionFlags("version accessed", "SECRET [flags]", `
List the versions of a secret, oldest first, with when the data of each was
last accessed through any API ("never" for a version never read). SECRET
(or --secret) is a secret id or a path such as /prod/db.

Nodes write access times every few seconds: on one node the answer is
exact, across nodes sharing a database it may lag by that interval.
Reading it needs the right to list versions, not the right to read values.`, true)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	target := *secretFlag
	switch {
	case target != "" && len(pos) > 0:
		return f.usageErrorf("give SECRET or --secret, not both")
	case target == "" && len(pos) != 1:
		return f.usageErrorf("want exactly one SECRET")
	case target == "":
		target = pos[0]
	}
	ref, err := f.secretArg("SECRET", target)
	if err != nil {
		return err
	}
	id := ref.SecretID
	if id == "" {
		a, err := e.connect(*f.dataDir)
		if err != nil {
			return err
		}
		defer a.close()
		if id, err = a.secretID(ctx, ref); err != nil {
			return err
		}
	}
	adm, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	var out []adminapi.Version
	for page := 1; ; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "page_size": {"1000"}}
		var p adminapi.VersionPage
		if err := adm.call(ctx, http.MethodGet, "/secrets/"+url.PathEscape(id)+"/versions?"+q.Encode(), nil, &p); err != nil {
			return callError("list versions of "+ref.Target(), err)
		}
		out = append(out, p.Versions...)
		if len(p.Versions) == 0 || len(out) >= p.TotalCount {
			break
		}
	}
	if *f.jsonOut {
		if out == nil {
			out = []adminapi.Version{}
		}
		return printJSON(e.stdout, out)
	}
	return printAccessed(e.stdout, out)
}

// printAccessed prints versions with their last access as a table.
func printAccessed(w io.Writer, vs []adminapi.Version) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tSTATE\tLATEST\tCREATED\tLAST ACCESSED")
	for _, v := range vs {
		accessed := "never"
		if v.AccessedAt != nil {
			accessed = timestamp(v.AccessedAt)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.Revision, clean(v.State), yesNo(v.Latest), timestamp(&v.CreatedAt), accessed)
	}
	return tw.Flush()
}
