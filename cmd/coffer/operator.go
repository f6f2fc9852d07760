package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"
)

const operatorUsage = `Usage: coffer operator COMMAND [flags]

Commands:
  rotate-key    rotate a protection key: a new version seals what is written
                from now on, and the data keys sealed before are re-wrapped
                in the background, reads and writes going on
  status        the rotations of the project's protection keys and the
                progress of their re-wrap
  rotate-root   rotate the root key: run where the store and the root key
                are, with the nodes stopped on SQLite (see docs/operations.md)

Rotating a protection key needs the KeyManager permission set (or an admin
key).
`

// keyRotationOut is a key rotation as the admin API gives it.
type keyRotationOut struct {
	KeyID       string     `json:"key_id"`
	ProjectID   string     `json:"project_id"`
	Version     uint32     `json:"version"`
	State       string     `json:"state"`
	Pass        int        `json:"pass"`
	Scanned     int64      `json:"scanned"`
	Rewrapped   int64      `json:"rewrapped"`
	Total       int64      `json:"total"`
	StartedAt   time.Time  `json:"started_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

func cmdOperatorRotateKey(ctx context.Context, e *env, args []string) error {
	f := e.flags("operator rotate-key", "[--project ID] [--key KEY_ID] [--wait]", `
Rotate a protection key of a project (by default its default key): a new
version of the key seals every version written from now on, and a background
job re-wraps, in batches, the data keys sealed under the older versions. The
data itself is not re-encrypted, and reads and writes go on. Follow the
progress with "coffer operator status", or wait for the end with --wait.`, true)
	project := f.String("project", "", "the project (default: COFFER_PROJECT or the key's project)")
	key := f.String("key", "", "the id of a user-managed protection key (default: the project's default key)")
	wait := f.Bool("wait", false, "wait until every data key is re-wrapped, printing the progress")
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
	if *project == "" {
		*project = a.cfg.project
	}
	if *project == "" {
		return f.usageErrorf("no project: pass --project or set COFFER_PROJECT")
	}
	in := map[string]string{}
	if *key != "" {
		in["key_id"] = *key
	}
	var out keyRotationOut
	if err := a.call(ctx, http.MethodPost, "/projects/"+url.PathEscape(*project)+"/keys/rotate", in, &out); err != nil {
		return callError("rotate key", err)
	}
	if !*wait {
		if *f.jsonOut {
			return printJSON(e.stdout, out)
		}
		fmt.Fprintf(e.stdout, "key %s: version %d seals new writes; re-wrapping %d versions in the background (coffer operator status)\n",
			out.KeyID, out.Version, out.Total)
		return nil
	}
	last := ""
	for {
		r, err := keyRotationOf(ctx, a, *project, out.KeyID)
		if err != nil {
			return err
		}
		if r.State == "complete" {
			if *f.jsonOut {
				return printJSON(e.stdout, r)
			}
			fmt.Fprintf(e.stdout, "key %s: complete at version %d: %d data keys re-wrapped\n", r.KeyID, r.Version, r.Rewrapped)
			return nil
		}
		if line := rotationProgress(r); line != last && !*f.jsonOut {
			fmt.Fprintln(e.stdout, line)
			last = line
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// keyRotationOf returns the rotation of one key of a project.
func keyRotationOf(ctx context.Context, a *admin, project, keyID string) (*keyRotationOut, error) {
	rs, err := keyRotations(ctx, a, project)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if rs[i].KeyID == keyID {
			return &rs[i], nil
		}
	}
	return nil, fmt.Errorf("key %s has no rotation in project %s", keyID, project)
}

// keyRotations lists the key rotations of a project.
func keyRotations(ctx context.Context, a *admin, project string) ([]keyRotationOut, error) {
	var out struct {
		Rotations []keyRotationOut `json:"rotations"`
	}
	if err := a.call(ctx, http.MethodGet, "/projects/"+url.PathEscape(project)+"/keys/rotations", nil, &out); err != nil {
		return nil, callError("list key rotations", err)
	}
	return out.Rotations, nil
}

// rotationProgress says where a rotation stands, in a line.
func rotationProgress(r *keyRotationOut) string {
	return fmt.Sprintf("key %s: %s to version %d, pass %d: %d of %d versions examined, %d data keys re-wrapped",
		r.KeyID, r.State, r.Version, r.Pass, r.Scanned, r.Total, r.Rewrapped)
}

func cmdOperatorStatus(ctx context.Context, e *env, args []string) error {
	f := e.flags("operator status", "[--project ID]", "List the rotations of the project's protection keys and the progress of their re-wrap.", true)
	project := f.String("project", "", "the project (default: COFFER_PROJECT or the key's project)")
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
	if *project == "" {
		*project = a.cfg.project
	}
	if *project == "" {
		return f.usageErrorf("no project: pass --project or set COFFER_PROJECT")
	}
	rs, err := keyRotations(ctx, a, *project)
	if err != nil {
		return err
	}
	if *f.jsonOut {
		return printJSON(e.stdout, map[string]any{"rotations": rs})
	}
	if len(rs) == 0 {
		_, err := fmt.Fprintln(e.stdout, "no protection key of this project was rotated")
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVERSION\tSTATE\tPASS\tEXAMINED\tTOTAL\tREWRAPPED\tSTARTED\tCOMPLETED")
	for _, r := range rs {
		done := "-"
		if r.CompletedAt != nil {
			done = r.CompletedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", r.KeyID, r.Version, r.State, r.Pass, r.Scanned, r.Total,
			r.Rewrapped, r.StartedAt.Format(time.RFC3339), done)
	}
	return tw.Flush()
}
