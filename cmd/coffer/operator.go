package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/seal"
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

func cmdOperatorRotateRoot(ctx context.Context, e *env, args []string) error {
	f := e.flags("operator rotate-root", "[--data-dir DIR] [--store URL] [--seal file|env|passphrase] [--new-key-file FILE] [--passphrase-file FILE --new-passphrase-file FILE]", `
Rotate the root key: generate a new one and re-wrap under it, in one
transaction, everything the old one wrapped (the protection keys, the
credentials, the CA's key), with its audit record. Version data is not
touched. Afterwards the old key is refused.

It runs where the store and the root key are, not through a server. With
SQLite the node must be stopped (the data directory is locked). With
PostgreSQL the nodes may run: they keep serving secrets with the protection
keys they hold, refuse what needs the root key (new protection keys, API
keys, triggers) and must be restarted with the new key, one after the other.

Where the new key goes depends on where the current one comes from:
  file        root.key in the data directory: the new key is written to
              root.key.new, and moved over root.key once the rotation
              commits (a crash in between is finished by the next start)
  env         COFFER_ROOT_KEY: the new key is written to --new-key-file
              (a new file, mode 0600) before anything is sealed under it;
              put it in COFFER_ROOT_KEY of every node
  passphrase  --passphrase-file or COFFER_PASSPHRASE: the new passphrase
              comes from --new-passphrase-file or COFFER_NEW_PASSPHRASE
              (it may be the same: a new salt makes a new key)`, false)
	store := f.String("store", e.getenv("COFFER_STORE"), "postgres:// URL of the PostgreSQL database (env COFFER_STORE); empty: SQLite in the data directory")
	sealKind := f.String("seal", "", "where the current root key comes from: file, env or passphrase (default: env when COFFER_ROOT_KEY is set, else file)")
	newKeyFile := f.String("new-key-file", "", "with --seal env, the new file the new root key is written to")
	passFile := f.String("passphrase-file", "", "with --seal passphrase, the file of the current passphrase (default: COFFER_PASSPHRASE)")
	newPassFile := f.String("new-passphrase-file", "", "with --seal passphrase, the file of the new passphrase (default: COFFER_NEW_PASSPHRASE)")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	dataDir := *f.dataDir
	if dataDir == "" {
		dataDir = e.getenv("COFFER_DATA_DIR")
	}
	if dataDir == "" {
		dataDir = "coffer-data"
	}
	cfg := node.RotateRootConfig{DataDir: dataDir, Store: *store}
	kind := *sealKind
	if kind == "" {
		kind = "file"
		if e.getenv("COFFER_ROOT_KEY") != "" {
			kind = "env"
		}
	}
	switch kind {
	case "file":
	case "env":
		if cfg.RootKey = e.getenv("COFFER_ROOT_KEY"); cfg.RootKey == "" {
			return f.usageErrorf("--seal env needs COFFER_ROOT_KEY")
		}
		if *newKeyFile == "" {
			return f.usageErrorf("the root key comes from COFFER_ROOT_KEY: name the new file to write the new key to with --new-key-file")
		}
		cfg.NewKeyFile = *newKeyFile
	case "passphrase":
		if cfg.Passphrase, err = sealPassphrase(*passFile, e.getenv); err != nil {
			return f.usageErrorf("%v", err)
		}
		defer clear(cfg.Passphrase)
		if *newPassFile != "" {
			cfg.NewPassphrase, err = seal.ReadPassphraseFile(*newPassFile)
		} else if v := e.getenv("COFFER_NEW_PASSPHRASE"); v != "" {
			cfg.NewPassphrase = []byte(v)
		} else {
			return f.usageErrorf("--seal passphrase needs the new passphrase: --new-passphrase-file or COFFER_NEW_PASSPHRASE")
		}
		if err != nil {
			return err
		}
		defer clear(cfg.NewPassphrase)
	default:
		return f.usageErrorf("--seal must be file, env or passphrase")
	}
	if *store != "" && !node.IsPostgres(*store) {
		return f.usageErrorf("--store must be a postgres:// or postgresql:// URL, or empty for SQLite in the data directory")
	}
	out, err := node.RotateRoot(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rotated the root key: %d protection key versions and %d credentials re-wrapped; the old key is refused from now on\n",
		out.KeyVersions, out.Credentials)
	switch kind {
	case "file":
		fmt.Fprintf(e.stdout, "the new key is in %s: back it up apart from the data, in place of the old one\n", out.KeyFile)
	case "env":
		fmt.Fprintf(e.stdout, "the new key is in %s: set it as COFFER_ROOT_KEY of every node, restart them, back it up and delete the file\n", out.KeyFile)
	case "passphrase":
		fmt.Fprintln(e.stdout, "start the nodes with the new passphrase from now on")
	}
	return nil
}
