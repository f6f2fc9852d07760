package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const iamUsage = `Usage: coffer iam GROUP COMMAND [flags]

Groups and commands:
  org        list | get ID | create NAME
  project    list | create NAME
  principal  list | create --kind user|application --name NAME [--admin] | get ID | delete ID
  key        list [--principal ID] | create --principal ID [--project ID] [--expires 720h]
             | disable ACCESS_KEY | enable ACCESS_KEY | delete ACCESS_KEY
  policy     list [--principal ID] | create --principal ID (--project ID | --all-projects)
             [--path /prefix] --sets SET,SET | delete ID

Permission sets: SecretManagerFullAccess, SecretManagerReadOnly (metadata,
never values), SecretManagerSecretAccess (values), SecretManagerSecretCreate,
SecretManagerSecretDelete, IAMManager, AuditReader, KeyManager,
RotationManager.

These commands need an admin key, or IAMManager on all projects. Only an
admin may create an admin principal. Admins of the system organization (the
one the first start created) are operators: they see every organization and
create new ones; everyone else sees only their own. Run
"coffer iam GROUP COMMAND -h" for a command's flags.
`

// iamCommand finds the command of "coffer iam GROUP COMMAND".
func iamCommand(args []string) (cmdFunc, []string, error) {
	help := func(_ context.Context, e *env, _ []string) error {
		fmt.Fprint(e.stdout, iamUsage)
		return nil
	}
	if len(args) == 0 {
		return nil, nil, &usageError{msg: `missing group after "iam"`, help: "coffer iam -h"}
	}
	groups := map[string]map[string]cmdFunc{
		"org":       {"list": cmdIAMOrgList, "get": cmdIAMOrgGet, "create": cmdIAMOrgCreate},
		"project":   {"list": cmdIAMProjectList, "create": cmdIAMProjectCreate},
		"principal": {"list": cmdIAMPrincipalList, "create": cmdIAMPrincipalCreate, "get": cmdIAMPrincipalGet, "delete": cmdIAMPrincipalDelete},
		"key": {"list": cmdIAMKeyList, "create": cmdIAMKeyCreate, "disable": cmdIAMKeyDisable,
			"enable": cmdIAMKeyEnable, "delete": cmdIAMKeyDelete},
		"policy": {"list": cmdIAMPolicyList, "create": cmdIAMPolicyCreate, "delete": cmdIAMPolicyDelete},
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		return help, nil, nil
	}
	cmds, ok := groups[args[0]]
	if !ok {
		return nil, nil, &usageError{msg: fmt.Sprintf("unknown command \"iam %s\"", args[0]), help: "coffer iam -h"}
	}
	return group("iam "+args[0], iamUsage, args[1:], cmds)
}

// iamCall parses a command's flags, checks its number of positional
// arguments and returns them with an admin client.
func iamCall(e *env, f *flagSet, args []string, npos int, what string) ([]string, *admin, error) {
	pos, err := f.parse(e, args, true)
	if err != nil {
		return nil, nil, err
	}
	if len(pos) != npos {
		if npos == 0 {
			return nil, nil, f.usageErrorf("unexpected argument %q", pos[0])
		}
		return nil, nil, f.usageErrorf("coffer %s takes one %s", f.name, what)
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return nil, nil, err
	}
	return pos, a, nil
}

// printOut prints v as JSON with --json, else as text with fn.
func printOut(e *env, f *flagSet, v any, fn func(w *tabwriter.Writer)) error {
	if f.jsonOut != nil && *f.jsonOut {
		return printJSON(e.stdout, v)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fn(w)
	return w.Flush()
}

type orgOut struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func printOrgs(e *env, f *flagSet, v any, orgs []orgOut) error {
	return printOut(e, f, v, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tNAME\tCREATED")
		for _, o := range orgs {
			fmt.Fprintf(w, "%s\t%s\t%s\n", o.ID, o.Name, o.CreatedAt.UTC().Format(time.RFC3339))
		}
	})
}

func cmdIAMOrgList(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam org list", "", "List the organizations you may see: all of them for an operator, else your own.", true)
	_, a, err := iamCall(e, f, args, 0, "")
	if err != nil {
		return err
	}
	var out struct {
		Organizations []orgOut `json:"organizations"`
	}
	if err := a.call(ctx, http.MethodGet, "/organizations", nil, &out); err != nil {
		return callError("list organizations", err)
	}
	return printOrgs(e, f, out.Organizations, out.Organizations)
}

func cmdIAMOrgGet(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam org get", "ID", "Show an organization.", true)
	pos, a, err := iamCall(e, f, args, 1, "ID")
	if err != nil {
		return err
	}
	var o orgOut
	if err := a.call(ctx, http.MethodGet, "/organizations/"+url.PathEscape(pos[0]), nil, &o); err != nil {
		return callError("get organization", err)
	}
	return printOrgs(e, f, o, []orgOut{o})
}

// orgCreatedOut is a new organization with the API key of its admin.
type orgCreatedOut struct {
	Organization     orgOut `json:"organization"`
	ProjectID        string `json:"project_id"`
	AdminPrincipalID string `json:"admin_principal_id"`
	AccessKey        string `json:"access_key"`
	SecretKey        string `json:"secret_key"`
}

func cmdIAMOrgCreate(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam org create", "NAME", `
Create an organization with its project "default" and an admin principal
"admin"; operators only. The admin's secret key is printed this once: give
it to the organization's administrator.`, true)
	pos, a, err := iamCall(e, f, args, 1, "NAME")
	if err != nil {
		return err
	}
	var o orgCreatedOut
	if err := a.call(ctx, http.MethodPost, "/organizations", map[string]string{"name": pos[0]}, &o); err != nil {
		return callError("create organization", err)
	}
	return printOut(e, f, o, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "organization\t%s\nname\t%s\nproject\t%s\nadmin\t%s\naccess key\t%s\nsecret key\t%s\n",
			o.Organization.ID, o.Organization.Name, o.ProjectID, o.AdminPrincipalID, o.AccessKey, o.SecretKey)
		fmt.Fprintln(w, "\nThe secret key is shown this once: store it now.")
	})
}

type projectOut struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
}

func cmdIAMProjectList(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam project list", "", "List the projects you may see.", true)
	_, a, err := iamCall(e, f, args, 0, "")
	if err != nil {
		return err
	}
	var out struct {
		Projects []projectOut `json:"projects"`
	}
	if err := a.call(ctx, http.MethodGet, "/projects", nil, &out); err != nil {
		return callError("list projects", err)
	}
	return printOut(e, f, out.Projects, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tNAME\tCREATED")
		for _, p := range out.Projects {
			fmt.Fprintf(w, "%s\t%s\t%s\n", p.ID, p.Name, p.CreatedAt.UTC().Format(time.RFC3339))
		}
	})
}

func cmdIAMProjectCreate(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam project create", "NAME", "Create a project of your organization.", true)
	pos, a, err := iamCall(e, f, args, 1, "NAME")
	if err != nil {
		return err
	}
	var p projectOut
	if err := a.call(ctx, http.MethodPost, "/projects", map[string]string{"name": pos[0]}, &p); err != nil {
		return callError("create project", err)
	}
	return printOut(e, f, p, func(w *tabwriter.Writer) { fmt.Fprintf(w, "%s\t%s\n", p.ID, p.Name) })
}

type principalOut struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Admin     bool      `json:"admin"`
	CreatedAt time.Time `json:"created_at"`
}

func printPrincipals(e *env, f *flagSet, v any, ps []principalOut) error {
	return printOut(e, f, v, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tKIND\tNAME\tADMIN\tCREATED")
		for _, p := range ps {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Kind, p.Name, yesNo(p.Admin), p.CreatedAt.UTC().Format(time.RFC3339))
		}
	})
}

func cmdIAMPrincipalList(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam principal list", "", "List the principals of your organization.", true)
	_, a, err := iamCall(e, f, args, 0, "")
	if err != nil {
		return err
	}
	var out struct {
		Principals []principalOut `json:"principals"`
	}
	if err := a.call(ctx, http.MethodGet, "/principals", nil, &out); err != nil {
		return callError("list principals", err)
	}
	return printPrincipals(e, f, out.Principals, out.Principals)
}

func cmdIAMPrincipalCreate(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam principal create", "--kind user|application --name NAME [--admin]", `
Create a principal; it has no rights until a policy grants some, unless it
is an admin, which may do everything in the organization. Only an admin may
create an admin.`, true)
	kind := f.String("kind", "application", "user or application")
	name := f.String("name", "", "the principal's name (required)")
	adm := f.Bool("admin", false, "make an admin principal")
	_, a, err := iamCall(e, f, args, 0, "")
	if err != nil {
		return err
	}
	if *name == "" {
		return f.usageErrorf("--name is required")
	}
	var p principalOut
	if err := a.call(ctx, http.MethodPost, "/principals", map[string]any{"kind": *kind, "name": *name, "admin": *adm}, &p); err != nil {
		return callError("create principal", err)
	}
	return printPrincipals(e, f, p, []principalOut{p})
}

func cmdIAMPrincipalGet(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam principal get", "ID", "Show a principal.", true)
	pos, a, err := iamCall(e, f, args, 1, "ID")
	if err != nil {
		return err
	}
	var p principalOut
	if err := a.call(ctx, http.MethodGet, "/principals/"+url.PathEscape(pos[0]), nil, &p); err != nil {
		return callError("get principal", err)
	}
	return printPrincipals(e, f, p, []principalOut{p})
}

func cmdIAMPrincipalDelete(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam principal delete", "ID", "Delete a principal with its API keys, certificates and policies; they stop working at once.", false)
	pos, a, err := iamCall(e, f, args, 1, "ID")
	if err != nil {
		return err
	}
	if err := a.call(ctx, http.MethodDelete, "/principals/"+url.PathEscape(pos[0]), nil, nil); err != nil {
		return callError("delete principal", err)
	}
	fmt.Fprintf(e.stdout, "deleted principal %s\n", pos[0])
	return nil
}

type keyOut struct {
	AccessKey        string     `json:"access_key"`
	SecretKey        string     `json:"secret_key,omitempty"`
	PrincipalID      string     `json:"principal_id"`
	DefaultProjectID string     `json:"default_project_id"`
	Description      string     `json:"description"`
	Disabled         bool       `json:"disabled"`
	ExpiresAt        *time.Time `json:"expires_at"`
	CreatedAt        time.Time  `json:"created_at"`
}

func printKeys(e *env, f *flagSet, v any, ks []keyOut) error {
	return printOut(e, f, v, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ACCESS KEY\tPRINCIPAL\tPROJECT\tDISABLED\tEXPIRES\tDESCRIPTION")
		for _, k := range ks {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.AccessKey, k.PrincipalID, k.DefaultProjectID,
				yesNo(k.Disabled), timestamp(k.ExpiresAt), k.Description)
		}
	})
}

func cmdIAMKeyList(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam key list", "[--principal ID]", "List API keys, without their secrets.", true)
	principal := f.String("principal", "", "only this principal's keys")
	_, a, err := iamCall(e, f, args, 0, "")
	if err != nil {
		return err
	}
	var out struct {
		Keys []keyOut `json:"api_keys"`
	}
	if err := a.call(ctx, http.MethodGet, "/api-keys?principal_id="+url.QueryEscape(*principal), nil, &out); err != nil {
		return callError("list API keys", err)
	}
	return printKeys(e, f, out.Keys, out.Keys)
}

func cmdIAMKeyCreate(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam key create", "--principal ID [--project ID] [--expires 720h] [--description TEXT]", `
Create an API key for a principal. The secret key is printed this once:
it is the token of every API (X-Auth-Token, X-Vault-Token, Bearer).`, true)
	principal := f.String("principal", "", "the principal the key authenticates (required)")
	project := f.String("project", "", "the key's default project (default: COFFER_PROJECT)")
	expires := f.String("expires", "", "how long the key is valid, such as 720h, or an RFC 3339 time (default: never expires)")
	description := f.String("description", "", "what the key is for")
	_, a, err := iamCall(e, f, args, 0, "")
	if err != nil {
		return err
	}
	if *principal == "" {
		return f.usageErrorf("--principal is required")
	}
	if *project == "" {
		*project = a.cfg.project
	}
	req := map[string]any{"principal_id": *principal, "default_project_id": *project, "description": *description}
	if *expires != "" {
		t, err := time.Parse(time.RFC3339, *expires)
		if err != nil {
			d, derr := time.ParseDuration(*expires)
			if derr != nil || d <= 0 {
				return f.usageErrorf("invalid --expires %q: want a positive duration such as 720h or an RFC 3339 time", *expires)
			}
			t = time.Now().Add(d)
		}
		req["expires_at"] = t.UTC()
	}
	var k keyOut
	if err := a.call(ctx, http.MethodPost, "/api-keys", req, &k); err != nil {
		return callError("create API key", err)
	}
	return printOut(e, f, k, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "access key\t%s\nsecret key\t%s\nprincipal\t%s\nproject\t%s\nexpires\t%s\n",
			k.AccessKey, k.SecretKey, k.PrincipalID, k.DefaultProjectID, timestamp(k.ExpiresAt))
		fmt.Fprintln(w, "\nThe secret key is shown this once: store it now.")
	})
}

func setKeyDisabled(ctx context.Context, e *env, args []string, disabled bool) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disabled]
	f := e.flags("iam key "+verb, "ACCESS_KEY", strings.ToUpper(verb[:1])+verb[1:]+" an API key; the change applies at once.", true)
	pos, a, err := iamCall(e, f, args, 1, "ACCESS_KEY")
	if err != nil {
		return err
	}
	var k keyOut
	if err := a.call(ctx, http.MethodPatch, "/api-keys/"+url.PathEscape(pos[0]), map[string]bool{"disabled": disabled}, &k); err != nil {
		return callError(verb+" API key", err)
	}
	return printKeys(e, f, k, []keyOut{k})
}

func cmdIAMKeyDisable(ctx context.Context, e *env, args []string) error {
	return setKeyDisabled(ctx, e, args, true)
}

func cmdIAMKeyEnable(ctx context.Context, e *env, args []string) error {
	return setKeyDisabled(ctx, e, args, false)
}

func cmdIAMKeyDelete(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam key delete", "ACCESS_KEY", "Delete an API key; it stops working at once.", false)
	pos, a, err := iamCall(e, f, args, 1, "ACCESS_KEY")
	if err != nil {
		return err
	}
	if err := a.call(ctx, http.MethodDelete, "/api-keys/"+url.PathEscape(pos[0]), nil, nil); err != nil {
		return callError("delete API key", err)
	}
	fmt.Fprintf(e.stdout, "deleted API key %s\n", pos[0])
	return nil
}

type policyOut struct {
	ID             string    `json:"id"`
	PrincipalID    string    `json:"principal_id"`
	ProjectID      string    `json:"project_id"`
	PathPrefix     string    `json:"path_prefix"`
	PermissionSets []string  `json:"permission_sets"`
	CreatedAt      time.Time `json:"created_at"`
}

func printPolicies(e *env, f *flagSet, v any, ps []policyOut) error {
	return printOut(e, f, v, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tPRINCIPAL\tPROJECT\tPATH\tPERMISSION SETS")
		for _, p := range ps {
			project := p.ProjectID
			if project == "" {
				project = "(all)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.PrincipalID, project, p.PathPrefix, strings.Join(p.PermissionSets, ","))
		}
	})
}

func cmdIAMPolicyList(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam policy list", "[--principal ID]", "List policies.", true)
	principal := f.String("principal", "", "only this principal's policies")
	_, a, err := iamCall(e, f, args, 0, "")
	if err != nil {
		return err
	}
	var out struct {
		Policies []policyOut `json:"policies"`
	}
	if err := a.call(ctx, http.MethodGet, "/policies?principal_id="+url.QueryEscape(*principal), nil, &out); err != nil {
		return callError("list policies", err)
	}
	return printPolicies(e, f, out.Policies, out.Policies)
}

func cmdIAMPolicyCreate(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam policy create", "--principal ID (--project ID | --all-projects) [--path /prefix] --sets SET,SET", `
Grant a principal permission sets on a project, or on every project of the
organization, optionally only below a path.`, true)
	principal := f.String("principal", "", "the principal (required)")
	project := f.String("project", "", "the project (default: COFFER_PROJECT unless --all-projects)")
	all := f.Bool("all-projects", false, "grant on every project of the organization")
	path := f.String("path", "/", "limit the policy to secrets at or below this path")
	sets := f.String("sets", "", "comma-separated permission sets (required)")
	_, a, err := iamCall(e, f, args, 0, "")
	if err != nil {
		return err
	}
	if *principal == "" || *sets == "" {
		return f.usageErrorf("--principal and --sets are required")
	}
	if *all && *project != "" {
		return f.usageErrorf("--project and --all-projects exclude each other")
	}
	if !*all && *project == "" {
		*project = a.cfg.project
		if *project == "" {
			return f.usageErrorf("--project or --all-projects is required")
		}
	}
	var list []string
	for s := range strings.SplitSeq(*sets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	var p policyOut
	err = a.call(ctx, http.MethodPost, "/policies", map[string]any{
		"principal_id": *principal, "project_id": *project, "path_prefix": *path, "permission_sets": list,
	}, &p)
	if err != nil {
		return callError("create policy", err)
	}
	return printPolicies(e, f, p, []policyOut{p})
}

func cmdIAMPolicyDelete(ctx context.Context, e *env, args []string) error {
	f := e.flags("iam policy delete", "ID", "Delete a policy; its rights end at once.", false)
	pos, a, err := iamCall(e, f, args, 1, "ID")
	if err != nil {
		return err
	}
	if err := a.call(ctx, http.MethodDelete, "/policies/"+url.PathEscape(pos[0]), nil, nil); err != nil {
		return callError("delete policy", err)
	}
	fmt.Fprintf(e.stdout, "deleted policy %s\n", pos[0])
	return nil
}
