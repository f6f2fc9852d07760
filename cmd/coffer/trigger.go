package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"
)

const triggerUsage = `Usage: coffer trigger COMMAND [flags]

Commands:
  create   create a rotation trigger: a webhook that rotation jobs call
  list     list the triggers of the project
  delete   delete a trigger no secret uses

A trigger is a URL that coffer POSTs {secretId, jobToken, action} to when a
rotation job starts (NAVER's execute and retry, or the automatic rotation
schedule), signed with the trigger's signing secret: see docs/rotation.md.
Creating or deleting a trigger needs the RotationManager permission set (or
an admin key).
`

// triggerOut is a trigger as the admin API gives it.
type triggerOut struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
	Secrets   []string  `json:"secrets"`
}

func cmdTriggerCreate(ctx context.Context, e *env, args []string) error {
	f := e.flags("trigger create", "--name NAME --url URL [--project ID]",
		"Create a rotation trigger. Its signing secret is printed this once: give it to the webhook, which verifies every call with it.", true)
	name := f.String("name", "", "the trigger's name, unique in its project")
	u := f.String("url", "", "the webhook's URL (http or https)")
	project := f.String("project", "", "the project (default: COFFER_PROJECT or the key's project)")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	if *name == "" || *u == "" {
		return f.usageErrorf("coffer trigger create needs --name and --url")
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	if *project == "" {
		*project = a.cfg.project
	}
	var out struct {
		Trigger       triggerOut `json:"trigger"`
		SigningSecret string     `json:"signing_secret"`
	}
	in := map[string]string{"project_id": *project, "name": *name, "url": *u}
	if err := a.call(ctx, http.MethodPost, "/triggers", in, &out); err != nil {
		return callError("create trigger", err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "id              %s\nname            %s\nurl             %s\nsigning secret  %s\n\nThe signing secret is shown this once.\n",
		out.Trigger.ID, out.Trigger.Name, out.Trigger.URL, out.SigningSecret)
	return nil
}

func cmdTriggerList(ctx context.Context, e *env, args []string) error {
	f := e.flags("trigger list", "[--project ID | --all-projects]", "List rotation triggers and the secrets that use them.", true)
	project := f.String("project", "", "the project (default: COFFER_PROJECT or the key's project)")
	all := f.Bool("all-projects", false, "list the triggers of every project the key may see")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	path := "/triggers"
	if !*all {
		p := *project
		if p == "" {
			p = a.cfg.project
		}
		if p != "" {
			path += "?project_id=" + url.QueryEscape(p)
		}
	}
	var out struct {
		Triggers []triggerOut `json:"triggers"`
	}
	if err := a.call(ctx, http.MethodGet, path, nil, &out); err != nil {
		return callError("list triggers", err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, out.Triggers)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tURL\tSECRETS")
	for _, t := range out.Triggers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", t.ID, t.Name, t.URL, len(t.Secrets))
	}
	return tw.Flush()
}

func cmdTriggerDelete(ctx context.Context, e *env, args []string) error {
	f := e.flags("trigger delete", "ID", "Delete a rotation trigger; no secret may use it.", false)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return f.usageErrorf("coffer trigger delete takes one ID")
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	if err := a.call(ctx, http.MethodDelete, "/triggers/"+url.PathEscape(pos[0]), nil, nil); err != nil {
		return callError("delete trigger", err)
	}
	fmt.Fprintf(e.stdout, "deleted %s\n", pos[0])
	return nil
}
