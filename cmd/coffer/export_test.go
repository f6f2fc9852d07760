package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// instance is a `coffer serve` process and the admin credentials its
// first start wrote.
type instance struct {
	addr, token, project string
}

// startInstance runs `coffer serve` on dataDir, on SQLite, or on the
// PostgreSQL database store names, and waits until it answers.
func startInstance(t *testing.T, store string) *instance {
	t.Helper()
	dir, addr := t.TempDir(), freeAddr(t)
	var extra []string
	if store != "" {
		extra = []string{"--store", store}
	}
	startServer(t, dir, addr, extra...)
	creds := readAdminCreds(t, dir)
	return &instance{addr: "http://" + addr, token: creds.SecretKey, project: creds.ProjectID}
}

// cli runs a client command against the instance, in project (the
// default project when ""), with extra environment variables, and returns
// its exit status and output.
func (in *instance) cli(t *testing.T, project string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	if project == "" {
		project = in.project
	}
	getenv := func(k string) string {
		switch k {
		case "COFFER_ADDR":
			return in.addr
		case "COFFER_TOKEN":
			return in.token
		case "COFFER_PROJECT":
			return project
		case "COFFER_DATA_DIR":
			return "/nonexistent"
		}
		return env[k]
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, getenv)
	return code, stdout.String(), stderr.String()
}

// must runs a client command that must succeed and returns its output.
func (in *instance) must(t *testing.T, project string, env map[string]string, args ...string) string {
	t.Helper()
	code, out, errOut := in.cli(t, project, env, args...)
	if code != 0 {
		t.Fatalf("coffer %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// vault sends a Vault KV v2 request to the instance's default project and
// returns the answer.
func (in *instance) vault(t *testing.T, method, path, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, in.addr+"/v1/secret/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", in.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("vault %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return string(b)
}

// state is what an instance shows of a secret: its metadata but for its
// project, its versions, and the values of those that can be read.
func (in *instance) state(t *testing.T, project, ref string, ignoreIDs bool) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal([]byte(in.must(t, project, nil, "secret", "get", ref, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	delete(s, "project_id")
	if ignoreIDs {
		delete(s, "id")
		delete(s, "srn")
	}
	var vs []map[string]any
	if err := json.Unmarshal([]byte(in.must(t, project, nil, "version", "list", "--secret", ref, "--json")), &vs); err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, v := range vs {
		delete(v, "secret_id")
		if ignoreIDs {
			delete(v, "srn")
		}
		if v["status"] == "enabled" {
			rev := strings.TrimSuffix(strings.TrimPrefix(jsonString(v["revision"]), "\""), "\"")
			// (A secret scheduled for deletion refuses: both must.)
			code, out, _ := in.cli(t, project, nil, "version", "access", "--secret", ref, "--revision", rev)
			values[rev] = strconv.Itoa(code) + " " + out
		}
	}
	return map[string]any{"secret": s, "versions": vs, "values": values}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestExportImportBetweenInstances copies secrets between two real
// instances, one on SQLite and one on PostgreSQL, both ways: through the
// recipient instance's export key, then through a passphrase with new ids.
// What each shows of a secret (metadata, states, versions, values) is the
// same on both; a second import changes nothing; conflicts are refused
// before anything is written, or skipped, or overwritten; a file cut short
// imports nothing; every export of a secret is in the audit trail, and both
// trails verify.
func TestExportImportBetweenInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	store := pgtest.NewSchema(t)
	a := startInstance(t, "")    // SQLite
	b := startInstance(t, store) // PostgreSQL

	var project struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(a.must(t, "", nil, "iam", "project", "create", "staging", "--json")), &project); err != nil {
		t.Fatal(err)
	}
	stagingA := project.ID
	if err := json.Unmarshal([]byte(b.must(t, "", nil, "iam", "project", "create", "staging", "--json")), &project); err != nil {
		t.Fatal(err)
	}
	stagingB := project.ID

	// The source: versions in every state, metadata, tags, policies, a
	// secret scheduled for deletion, one in another project, one outside
	// the exported path.
	a.must(t, "", nil, "secret", "create", "--name", "db", "--path", "/prod", "--type", "key_value",
		"--description", "the database", "--tag", "db", "--tag", "prod", "--protected")
	for _, v := range []string{`{"password":"one"}`, `{"password":"two"}`, `{"password":"three"}`, `{"password":"four"}`} {
		a.must(t, "", nil, "version", "create", "--secret", "/prod/db", "--data", v)
	}
	a.must(t, "", nil, "version", "disable", "--secret", "/prod/db", "--revision", "1")
	a.vault(t, "POST", "destroy/prod/db", `{"versions":[2]}`)
	a.must(t, "", nil, "version", "delete", "--secret", "/prod/db", "--revision", "3")
	a.vault(t, "POST", "metadata/prod/db", `{"max_versions":7,"custom_metadata":{"owner":"team-a"}}`)
	a.must(t, "", nil, "secret", "create", "--name", "api", "--path", "/prod/web")
	a.must(t, "", nil, "version", "create", "--secret", "/prod/web/api", "--data", "token-1\x00\xff")
	var old struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(a.must(t, "", nil, "secret", "create", "--name", "old", "--path", "/prod", "--json")), &old); err != nil {
		t.Fatal(err)
	}
	a.must(t, "", nil, "version", "create", "--secret", "/prod/old", "--data", "old value")
	a.must(t, "", nil, "secret", "delete", "/prod/old")
	a.must(t, "", nil, "secret", "create", "--name", "temp", "--path", "/prod", "--ttl", "720h", "--action", "delete")
	a.must(t, "", nil, "version", "create", "--secret", "/prod/temp", "--data", "short-lived")
	a.must(t, "", nil, "secret", "create", "--name", "other", "--path", "/dev")
	a.must(t, "", nil, "version", "create", "--secret", "/dev/other", "--data", "not exported")
	a.must(t, stagingA, nil, "secret", "create", "--name", "cache", "--path", "/prod")
	a.must(t, stagingA, nil, "version", "create", "--secret", "/prod/cache", "--data", "staging value")

	refs := []struct{ projectA, projectB, ref string }{
		{"", "", "/prod/db"}, {"", "", "/prod/web/api"}, {"", "", old.ID}, {"", "", "/prod/temp"}, {stagingA, stagingB, "/prod/cache"},
	}

	// A to B, encrypted to B's export key.
	dir := t.TempDir()
	key := strings.TrimSpace(b.must(t, "", nil, "export-key"))
	if !strings.HasPrefix(key, "x25519:") {
		t.Fatalf("export key %q", key)
	}
	file := filepath.Join(dir, "a.export")
	out := a.must(t, "", nil, "export", "--path", "/prod", "--recipient", key, "--out", file)
	if want := "exported 5 secrets, 8 versions"; !strings.Contains(out, want) {
		t.Fatalf("export: %q, want %q", out, want)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the export file: %v, %v", st, err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"password", "token-1", "staging value", "short-lived", "the database", "team-a"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Fatalf("the export file holds %q in clear", plain)
		}
	}
	// A is not the recipient: it cannot import its own export.
	if code, _, errOut := a.cli(t, "", nil, "import", file); code != 1 || !strings.Contains(errOut, "export key") {
		t.Fatalf("import on the exporter: exit %d: %s", code, errOut)
	}

	out = b.must(t, "", nil, "import", file)
	if want := "imported 5 secrets: 5 created, 0 unchanged, 0 skipped, 0 overwritten; 8 versions written"; !strings.Contains(out, want) {
		t.Fatalf("import: %q, want %q", out, want)
	}
	for _, r := range refs {
		if diff := cmp.Diff(a.state(t, r.projectA, r.ref, false), b.state(t, r.projectB, r.ref, false)); diff != "" {
			t.Errorf("%s on B differs from A (-A +B):\n%s", r.ref, diff)
		}
	}
	// What only Vault shows: the custom metadata and max_versions.
	if meta := b.vault(t, "GET", "metadata/prod/db", ""); !strings.Contains(meta, `"custom_metadata":{"owner":"team-a"}`) ||
		!strings.Contains(meta, `"max_versions":7`) {
		t.Errorf("Vault metadata of /prod/db on B: %s", meta)
	}
	if code, _, _ := b.cli(t, "", nil, "secret", "get", "/dev/other"); code == 0 {
		t.Error("a secret outside the exported path was imported")
	}

	// A second import changes nothing.
	before := b.state(t, "", "/prod/db", false)
	out = b.must(t, "", nil, "import", file)
	if want := "imported 5 secrets: 0 created, 5 unchanged, 0 skipped, 0 overwritten; 0 versions written"; !strings.Contains(out, want) {
		t.Fatalf("second import: %q, want %q", out, want)
	}
	if diff := cmp.Diff(before, b.state(t, "", "/prod/db", false)); diff != "" {
		t.Errorf("the second import changed /prod/db (-before +after):\n%s", diff)
	}

	// Conflicts: refused, with nothing written; skipped; overwritten.
	b.must(t, "", nil, "version", "create", "--secret", "/prod/web/api", "--data", "changed on B")
	changed := b.state(t, "", "/prod/web/api", false)
	if code, _, errOut := b.cli(t, "", nil, "import", file); code != 1 || !strings.Contains(errOut, "conflict") {
		t.Fatalf("import with a conflict: exit %d: %s", code, errOut)
	}
	if diff := cmp.Diff(changed, b.state(t, "", "/prod/web/api", false)); diff != "" {
		t.Errorf("a refused import changed /prod/web/api:\n%s", diff)
	}
	out = b.must(t, "", nil, "import", "--on-conflict", "skip", file)
	if want := "0 created, 4 unchanged, 1 skipped"; !strings.Contains(out, want) {
		t.Fatalf("import, skip: %q, want %q", out, want)
	}
	out = b.must(t, "", nil, "import", "--on-conflict", "overwrite", file)
	if want := "0 created, 4 unchanged, 0 skipped, 1 overwritten; 1 versions written"; !strings.Contains(out, want) {
		t.Fatalf("import, overwrite: %q, want %q", out, want)
	}
	if diff := cmp.Diff(a.state(t, "", "/prod/web/api", false), b.state(t, "", "/prod/web/api", false)); diff != "" {
		t.Errorf("/prod/web/api after the overwrite differs from A (-A +B):\n%s", diff)
	}

	// B to A, encrypted to a passphrase, into a new project with new ids.
	env := map[string]string{"EXPORT_PASSPHRASE": "a passphrase long enough"}
	file2 := filepath.Join(dir, "b.export")
	b.must(t, "", env, "export", "--project", b.project, "--passphrase-env", "EXPORT_PASSPHRASE", "--out", file2)
	if err := json.Unmarshal([]byte(a.must(t, "", nil, "iam", "project", "create", "copy", "--json")), &project); err != nil {
		t.Fatal(err)
	}
	copyA := project.ID
	if code, _, errOut := a.cli(t, "", nil, "import", "--project", copyA, file2); code != 2 || !strings.Contains(errOut, "passphrase") {
		t.Fatalf("import without the passphrase: exit %d: %s", code, errOut)
	}
	wrong := map[string]string{"EXPORT_PASSPHRASE": "another passphrase, wrong"}
	if code, _, errOut := a.cli(t, "", wrong, "import", "--project", copyA, "--passphrase-env", "EXPORT_PASSPHRASE", file2); code != 1 || !strings.Contains(errOut, "passphrase") {
		t.Fatalf("import with a wrong passphrase: exit %d: %s", code, errOut)
	}
	// A file cut short imports nothing.
	raw2, err := os.ReadFile(file2)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.export")
	if err := os.WriteFile(cut, raw2[:len(raw2)-20], 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := a.cli(t, "", env, "import", "--project", copyA, "--new-ids", "--passphrase-env", "EXPORT_PASSPHRASE", cut); code != 1 || !strings.Contains(errOut, "damaged or incomplete") {
		t.Fatalf("import of a file cut short: exit %d: %s", code, errOut)
	}
	if out := a.must(t, copyA, nil, "secret", "list", "--json"); strings.Contains(out, `"id"`) {
		t.Fatalf("a file cut short imported secrets: %s", out)
	}
	for range 2 {
		out = a.must(t, "", env, "import", "--project", copyA, "--new-ids", "--passphrase-env", "EXPORT_PASSPHRASE", file2)
	}
	if want := "imported 4 secrets: 0 created, 4 unchanged"; !strings.Contains(out, want) {
		t.Fatalf("second import with new ids: %q, want %q", out, want)
	}
	// (A secret scheduled for deletion is found by id only, which differs.)
	for _, ref := range []string{"/prod/db", "/prod/web/api", "/prod/temp"} {
		if diff := cmp.Diff(b.state(t, "", ref, true), a.state(t, copyA, ref, true)); diff != "" {
			t.Errorf("%s back on A differs from B (-B +A):\n%s", ref, diff)
		}
		if a.state(t, copyA, ref, false)["secret"].(map[string]any)["id"] == b.state(t, "", ref, false)["secret"].(map[string]any)["id"] {
			t.Errorf("%s kept its id with --new-ids", ref)
		}
	}

	// The trail: one record per secret exported, and both chains verify.
	req, _ := http.NewRequest("GET", a.addr+"/coffer/v1/audit?action="+url.QueryEscape("export secret")+"&page_size=100", nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Records []struct {
			SecretID string `json:"secret_id"`
			Path     string `json:"path"`
		} `json:"records"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range page.Records {
		paths = append(paths, r.Path)
	}
	if diff := cmp.Diff([]string{"prod/cache", "prod/db", "prod/old", "prod/temp", "prod/web/api"}, slices.Sorted(slices.Values(paths))); diff != "" {
		t.Errorf("export records on A (-want +got):\n%s", diff)
	}
	for _, in := range []*instance{a, b} {
		if out := in.must(t, "", nil, "audit", "verify"); !strings.Contains(out, "ok") {
			t.Errorf("audit verify: %s", out)
		}
	}
}

// TestExportUsage: the recipient is one, a passphrase never a flag's value,
// and a file is never overwritten.
func TestExportUsage(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("too short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	exists := filepath.Join(dir, "exists")
	if err := os.WriteFile(exists, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	in := &instance{addr: "http://127.0.0.1:1", token: "x", project: "p"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "--out", filepath.Join(dir, "f")}, 2, "give a recipient"},
		{[]string{"export", "--recipient", "x25519:AA", "--passphrase-file", short, "--out", filepath.Join(dir, "f")}, 2, "not both"},
		{[]string{"export", "--passphrase-file", short, "--passphrase-env", "P", "--out", filepath.Join(dir, "f")}, 2, "not both"},
		{[]string{"export", "--passphrase-file", short, "--out", filepath.Join(dir, "f")}, 1, "shorter than 12"},
		{[]string{"export", "--passphrase-env", "UNSET", "--out", filepath.Join(dir, "f")}, 1, "UNSET is empty or unset"},
		{[]string{"export", "--recipient", "x25519:AA"}, 2, "--out is required"},
		{[]string{"export", "--recipient", "x25519:AA", "--out", exists}, 1, "never overwrites"},
		{[]string{"export", "--passphrase", "secret", "--out", filepath.Join(dir, "f")}, 2, "not defined"},
		{[]string{"import"}, 2, "want one FILE"},
		{[]string{"import", "--on-conflict", "merge", short}, 2, "fail, skip or overwrite"},
		{[]string{"import", short}, 1, "not a coffer export file"},
	} {
		code, _, errOut := in.cli(t, "", nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("coffer %s: exit %d, %q; want exit %d and %q", strings.Join(c.args, " "), code, errOut, c.code, c.want)
		}
	}
}
