package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const vaultUsage = `Usage: coffer vault COMMAND [flags]

Commands:
  create   create a key vault: a folder whose secrets are deployed to a target
  list     list key vaults
  get      show a key vault
  update   rename a key vault, or change how its target is reached
           (address, CA certificate, credential)
  delete   delete an empty key vault
  import   import the target's secrets into the key vault

A key vault is a folder of a project. Every version of every secret in it,
written through any API, is pushed to its target: a Vault KV v2 mount, a
Scaleway-compatible Secret Manager, an OVHcloud OKMS domain or a NAVER Cloud
Secret Manager. "coffer sync status" shows what is
pending or failed.
`

const syncUsage = `Usage: coffer sync status [--json]

Show each key vault's secrets and their deployment: pending, failed and why.
`

// keyVault is the admin API's key vault.
type keyVault struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	State     string `json:"state"`
	Target    struct {
		Kind      string `json:"kind"`
		Address   string `json:"address,omitempty"`
		Mount     string `json:"mount,omitempty"`
		Namespace string `json:"namespace,omitempty"`
		Project   string `json:"project,omitempty"`
		Region    string `json:"region,omitempty"`
		OKMSID    string `json:"okms_id,omitempty"`
		AccessKey string `json:"access_key,omitempty"`
		CA        string `json:"ca_certificate,omitempty"`
	} `json:"target"`
	CreatedAt time.Time `json:"created_at"`
}

func printKeyVault(w io.Writer, v *keyVault) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, val string) {
		if val != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, clean(val))
		}
	}
	row("id", v.ID)
	row("name", v.Name)
	row("project", v.ProjectID)
	row("path", v.Path)
	row("state", v.State)
	row("target", v.Target.Kind)
	row("address", v.Target.Address)
	row("mount", v.Target.Mount)
	row("namespace", v.Target.Namespace)
	row("target project", v.Target.Project)
	row("region", v.Target.Region)
	row("okms id", v.Target.OKMSID)
	row("access key", v.Target.AccessKey)
	if v.Target.CA != "" {
		row("ca certificate", "set")
	}
	return tw.Flush()
}

func cmdVaultCreate(ctx context.Context, e *env, args []string) error {
	f := e.flags("vault create", "NAME [--path /folder] [--target vault|scaleway|okms|ncloud --address URL ...]", `
Create a key vault. Without --target it is local only. The target's token or
secret key (for OKMS, a token or an access certificate followed by its
private key, PEM; for NAVER, the secret key of --access-key) is read from COFFER_TARGET_CREDENTIAL, or from standard
input with --credential-stdin: never from the command line.`, true)
	var (
		project   = f.String("project", "", "the project (default: COFFER_PROJECT)")
		path      = f.String("path", "", "the folder of the vault's secrets (default: /NAME)")
		kind      = f.String("target", "none", "none, vault, scaleway, okms or ncloud")
		address   = f.String("address", "", "the Vault address, the Scaleway API URL or the OKMS endpoint")
		mount     = f.String("mount", "", "the Vault KV v2 mount (default: secret)")
		namespace = f.String("namespace", "", "the Vault namespace")
		tproject  = f.String("target-project", "", "the Scaleway project")
		region    = f.String("region", "", "the Scaleway region")
		okmsID    = f.String("okms-id", "", "the OKMS domain")
		accessKey = f.String("access-key", "", "the NAVER API key's access key (its secret key is the credential)")
		caFile    = f.String("ca-file", "", "a PEM file of the only authority trusted for the target")
		fromStdin = f.Bool("credential-stdin", false, "read the target's credential from standard input")
	)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return f.usageErrorf("coffer vault create takes one NAME")
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	if *project == "" {
		*project = a.cfg.project
	}
	cred, err := e.targetCredential(*fromStdin)
	if err != nil {
		return err
	}
	ca, err := readCA(*caFile)
	if err != nil {
		return err
	}
	in := map[string]any{"project_id": *project, "name": pos[0], "path": *path, "target": map[string]string{
		"kind": *kind, "address": *address, "mount": *mount, "namespace": *namespace,
		"project": *tproject, "region": *region, "okms_id": *okmsID, "access_key": *accessKey, "ca_certificate": ca, "credential": cred,
	}}
	var v keyVault
	if err := a.call(ctx, http.MethodPost, "/key-vaults", in, &v); err != nil {
		return callError("create key vault", err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, v)
	}
	return printKeyVault(e.stdout, &v)
}

// targetCredential returns a target's credential: from standard input with
// --credential-stdin, else from COFFER_TARGET_CREDENTIAL ("" when unset).
func (e *env) targetCredential(fromStdin bool) (string, error) {
	if !fromStdin {
		return e.getenv("COFFER_TARGET_CREDENTIAL"), nil
	}
	b, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// readCA returns the PEM file at path, "" for no path.
func readCA(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the CA certificate: %w", err)
	}
	return string(b), nil
}

func cmdVaultUpdate(ctx context.Context, e *env, args []string) error {
	f := e.flags("vault update", "ID [--name NAME] [--address URL] [--ca-file FILE] [--credential-stdin]", `
Rename a key vault, or change how its target is reached: its address, the
authority trusted for it, or its credential (from COFFER_TARGET_CREDENTIAL
when --credential, or from standard input with --credential-stdin). Which
secret manager the vault deploys to does not change. Secrets that failed for
want of the new setting are deployed at the next pass after "retry".`, true)
	var (
		name      = f.String("name", "", "the vault's new name")
		address   = f.String("address", "", "the target's new address")
		caFile    = f.String("ca-file", "", "a PEM file of the only authority trusted for the target")
		accessKey = f.String("access-key", "", "the NAVER target's new access key (give its secret key as the credential)")
		fromEnv   = f.Bool("credential", false, "set the credential from COFFER_TARGET_CREDENTIAL")
		fromStdin = f.Bool("credential-stdin", false, "set the credential from standard input")
	)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return f.usageErrorf("coffer vault update takes one ID")
	}
	in, target := map[string]any{}, map[string]any{}
	if *name != "" {
		in["name"] = *name
	}
	if *address != "" {
		target["address"] = *address
	}
	if *caFile != "" {
		ca, err := readCA(*caFile)
		if err != nil {
			return err
		}
		target["ca_certificate"] = ca
	}
	if *accessKey != "" {
		target["access_key"] = *accessKey
	}
	if *fromEnv || *fromStdin {
		cred, err := e.targetCredential(*fromStdin)
		if err != nil {
			return err
		}
		if cred == "" {
			return f.usageErrorf("the new credential is empty")
		}
		target["credential"] = cred
	}
	if len(target) > 0 {
		in["target"] = target
	}
	if len(in) == 0 {
		return f.usageErrorf("coffer vault update changes nothing without a flag")
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	var v keyVault
	if err := a.call(ctx, http.MethodPatch, "/key-vaults/"+url.PathEscape(pos[0]), in, &v); err != nil {
		return callError("update key vault", err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, v)
	}
	return printKeyVault(e.stdout, &v)
}

func cmdVaultList(ctx context.Context, e *env, args []string) error {
	f := e.flags("vault list", "", "List key vaults.", true)
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
	var out struct {
		KeyVaults []keyVault `json:"key_vaults"`
	}
	if err := a.call(ctx, http.MethodGet, "/key-vaults", nil, &out); err != nil {
		return callError("list key vaults", err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, out.KeyVaults)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPATH\tTARGET\tSTATE")
	for _, v := range out.KeyVaults {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ID, clean(v.Name), clean(v.Path), clean(v.Target.Kind), clean(v.State))
	}
	return tw.Flush()
}

// vaultByID runs a command on one key vault: GET, DELETE or import.
func vaultByID(ctx context.Context, e *env, args []string, name, help, method, suffix string) error {
	f := e.flags("vault "+name, "ID", help, true)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return f.usageErrorf("coffer vault %s takes one ID", name)
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	switch name {
	case "get":
		var v keyVault
		if err := a.call(ctx, method, "/key-vaults/"+url.PathEscape(pos[0]), nil, &v); err != nil {
			return callError("get key vault", err)
		}
		if *f.jsonOut {
			return printJSON(e.stdout, v)
		}
		return printKeyVault(e.stdout, &v)
	case "delete":
		if err := a.call(ctx, method, "/key-vaults/"+url.PathEscape(pos[0]), nil, nil); err != nil {
			return callError("delete key vault", err)
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", pos[0])
		return nil
	}
	var out struct {
		Imported int `json:"imported"`
	}
	if err := a.call(ctx, method, "/key-vaults/"+url.PathEscape(pos[0])+suffix, nil, &out); err != nil {
		return callError("import key vault", err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "imported  %d\n", out.Imported)
	return nil
}

func cmdVaultGet(ctx context.Context, e *env, args []string) error {
	return vaultByID(ctx, e, args, "get", "Show a key vault.", http.MethodGet, "")
}

func cmdVaultDelete(ctx context.Context, e *env, args []string) error {
	return vaultByID(ctx, e, args, "delete", "Delete an empty key vault.", http.MethodDelete, "")
}

func cmdVaultImport(ctx context.Context, e *env, args []string) error {
	return vaultByID(ctx, e, args, "import", `
Import the target's secrets the vault does not hold yet, with their latest
value (brownfield). Importing twice imports nothing the second time.`, http.MethodPost, "/import")
}

func cmdSyncStatus(ctx context.Context, e *env, args []string) error {
	f := e.flags("sync status", "", "Show each key vault's deployments: pending, failed and why.", true)
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
	var out struct {
		KeyVaults []struct {
			KeyVault keyVault `json:"key_vault"`
			Pending  int      `json:"pending"`
			Failed   int      `json:"failed"`
			Secrets  []struct {
				SecretID       string `json:"secret_id"`
				Name           string `json:"name"`
				State          string `json:"state"`
				LatestRevision uint32 `json:"latest_revision"`
				PushedRevision uint32 `json:"pushed_revision"`
				Attempts       int    `json:"attempts"`
				Error          string `json:"error"`
			} `json:"secrets"`
		} `json:"key_vaults"`
	}
	if err := a.call(ctx, http.MethodGet, "/sync", nil, &out); err != nil {
		return callError("sync status", err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, out.KeyVaults)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VAULT\tSECRET\tSTATE\tPUSHED\tATTEMPTS\tERROR")
	for _, v := range out.KeyVaults {
		for _, s := range v.Secrets {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s\t%d\t%s\n", clean(v.KeyVault.Name), clean(s.Name), clean(s.State),
				strconv.FormatUint(uint64(s.PushedRevision), 10), strconv.FormatUint(uint64(s.LatestRevision), 10),
				s.Attempts, clean(s.Error))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	pending, failed := 0, 0
	for _, v := range out.KeyVaults {
		pending += v.Pending
		failed += v.Failed
	}
	fmt.Fprintf(e.stdout, "%d pending, %d failed\n", pending, failed)
	return nil
}
