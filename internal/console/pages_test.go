package console_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestAuditPages checks the audit trail's filters, its paging link and the
// verification with the chain's head.
func TestAuditPages(t *testing.T) {
	n := nodetest.Start(t)
	s := kvSecret(t, n, "/app", "db", `{"a":"1"}`)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	b.post("/ui/secrets/"+s.ID+"/versions/1/reveal", url.Values{"csrf": {csrf}})
	b.post("/ui/secrets/"+s.ID+"/versions/1/reveal", url.Values{"csrf": {"forged"}})

	p := b.get("/ui/audit?secret=" + s.ID + "&outcome=ok&action=" + url.QueryEscape("POST /ui/secrets/{id}/versions/{rev}/reveal"))
	if p.status != http.StatusOK || strings.Count(p.body, `<td class="action">POST /ui/secrets/{id}/versions/{rev}/reveal</td>`) != 1 {
		t.Errorf("audit filtered on the reveals: %d\n%s", p.status, p.body)
	}
	p = b.get("/ui/audit?outcome=denied")
	if p.status != http.StatusOK || !strings.Contains(p.body, "denied (forbidden)") {
		t.Errorf("audit filtered on denied: %d\n%s", p.status, p.body)
	}
	p = b.get("/ui/audit?from=2000-01-01T00:00&to=2000-01-02T00:00")
	if p.status != http.StatusOK || !strings.Contains(p.body, "No record.") {
		t.Errorf("audit of a day without records: %d\n%s", p.status, p.body)
	}
	p = b.get("/ui/audit/verify")
	if p.status != http.StatusOK || !regexp.MustCompile(`<code id="head">\d+:[0-9a-f]{64}</code>`).MatchString(p.body) || !strings.Contains(p.body, "verifies") {
		t.Errorf("verify: %d\n%s", p.status, p.body)
	}
	// The trail is for AuditReader principals.
	ro := newBrowser(t, n)
	ro.login(readOnly(t, n))
	if p := ro.get("/ui/audit"); p.status != http.StatusForbidden || !strings.Contains(p.body, `id="error"`) {
		t.Errorf("audit for a read-only principal: %d\n%s", p.status, p.body)
	}
}

// TestIAMPages creates a principal, a key (shown once) and a policy, and
// deletes them.
func TestIAMPages(t *testing.T) {
	n := nodetest.Start(t)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	if p := b.post("/ui/iam/principals", url.Values{"csrf": {csrf}, "name": {"ci"}, "kind": {"application"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create principal: %d\n%s", p.status, p.body)
	}
	ps, err := n.Engine.ListPrincipals(admin(t, n))
	if err != nil {
		t.Fatal(err)
	}
	var ci *coffer.Principal
	for _, p := range ps {
		if p.Name == "ci" {
			ci = p
		}
	}
	if ci == nil {
		t.Fatal("no principal ci")
	}
	if p := b.get("/ui/iam/principals"); p.status != http.StatusOK || !strings.Contains(p.body, ci.ID) {
		t.Errorf("principals: %d", p.status)
	}
	p := b.post("/ui/iam/principals/"+ci.ID+"/keys", url.Values{"csrf": {csrf}, "description": {"deploy"}, "project": {n.Creds.ProjectID}})
	secret := regexp.MustCompile(`<code id="secret-key" class="value">([^<]+)</code>`).FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || secret == nil {
		t.Fatalf("create key: %d\n%s", p.status, p.body)
	}
	keys := b.get("/ui/iam/principals/" + ci.ID + "/keys")
	if keys.status != http.StatusOK || !strings.Contains(keys.body, "deploy") || strings.Contains(keys.body, secret[1]) {
		t.Errorf("keys page: %d, or it shows the secret key again", keys.status)
	}
	if p := b.post("/ui/iam/principals/"+ci.ID+"/policies", url.Values{"csrf": {csrf}, "project": {n.Creds.ProjectID},
		"path": {"/ci"}, "sets": {"SecretManagerReadOnly", "SecretManagerSecretAccess"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create policy: %d\n%s", p.status, p.body)
	}
	pols := b.get("/ui/iam/principals/" + ci.ID + "/policies")
	if pols.status != http.StatusOK || !strings.Contains(pols.body, "SecretManagerSecretAccess") {
		t.Errorf("policies page: %d\n%s", pols.status, pols.body)
	}
	if p := b.post("/ui/iam/principals/"+ci.ID+"/policies", url.Values{"csrf": {csrf}, "sets": {"NoSuchSet"}}); p.status != http.StatusBadRequest {
		t.Errorf("policy with an unknown set: %d\n%s", p.status, p.body)
	}
	if p := b.post("/ui/iam/principals/"+ci.ID+"/delete", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Errorf("delete principal: %d\n%s", p.status, p.body)
	}
	if _, err := n.Engine.GetPrincipal(admin(t, n), ci.ID); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("the principal is still there: %v", err)
	}
}

// TestRotationAndKeyVaultPages checks the rotation history, a rotation
// refused with the engine's message, and the key vault pages.
func TestRotationAndKeyVaultPages(t *testing.T) {
	n := nodetest.Start(t)
	s := kvSecret(t, n, "/app", "db", `{"a":"1"}`)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	if p := b.get("/ui/secrets/" + s.ID + "/rotation"); p.status != http.StatusOK || !strings.Contains(p.body, "No rotation yet.") {
		t.Errorf("rotation history: %d\n%s", p.status, p.body)
	}
	if p := b.post("/ui/secrets/"+s.ID+"/retry-rotation", url.Values{"csrf": {csrf}}); p.status != http.StatusConflict || !strings.Contains(p.body, "only a failed rotation can be retried") {
		t.Errorf("retry without a failed job: %d\n%s", p.status, p.body)
	}
	// Rotate now, without a trigger: a job opens, in the history.
	if p := b.post("/ui/secrets/"+s.ID+"/rotate", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("rotate now: %d\n%s", p.status, p.body)
	}
	if p := b.get("/ui/secrets/" + s.ID + "/rotation"); p.status != http.StatusOK || strings.Contains(p.body, "No rotation yet.") {
		t.Errorf("rotation history after rotate now: %d\n%s", p.status, p.body)
	}
	if p := b.get("/ui/secrets/" + s.ID + "/"); !strings.Contains(p.body, "last job") || strings.Contains(p.body, `id="rotate"`) {
		t.Errorf("the secret page does not show the job:\n%s", p.body)
	}
	// Automatic rotation with a trigger, then off.
	auto := kvSecret(t, n, "/app", "auto", `{"a":"1"}`)
	tr, err := n.Engine.CreateTrigger(admin(t, n), coffer.TriggerCreate{ProjectID: n.Creds.ProjectID, Name: "rotator", URL: "http://127.0.0.1:9/hook"})
	if err != nil {
		t.Fatal(err)
	}
	if p := b.post("/ui/secrets/"+auto.ID+"/auto-rotation", url.Values{"csrf": {csrf}, "days": {"30"}, "trigger": {tr.ID}}); p.status != http.StatusSeeOther {
		t.Fatalf("enable automatic rotation: %d\n%s", p.status, p.body)
	}
	if p := b.get("/ui/secrets/" + auto.ID + "/"); !strings.Contains(p.body, "automatic, every 720h0m0s") || !strings.Contains(p.body, `id="disable-auto-rotation"`) || !strings.Contains(p.body, `id="rotate"`) {
		t.Errorf("secret page with automatic rotation:\n%s", p.body)
	}
	if p := b.post("/ui/secrets/"+auto.ID+"/auto-rotation", url.Values{"csrf": {csrf}, "days": {"9999"}}); p.status != http.StatusBadRequest {
		t.Errorf("a period of 9999 days: %d\n%s", p.status, p.body)
	}
	if p := b.post("/ui/secrets/"+auto.ID+"/auto-rotation/disable", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable automatic rotation: %d\n%s", p.status, p.body)
	}
	got, err := n.Engine.GetSecret(admin(t, n), auto.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rotation == nil || got.Rotation.Enabled || got.Rotation.TriggerID != tr.ID {
		t.Errorf("after disable: %+v", got.Rotation)
	}

	if p := b.get("/ui/keyvaults"); p.status != http.StatusOK || !strings.Contains(p.body, "No key vault.") {
		t.Errorf("key vaults: %d\n%s", p.status, p.body)
	}
	kv, err := n.Engine.CreateKeyVault(admin(t, n), coffer.KeyVaultCreate{ProjectID: n.Creds.ProjectID, Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if p := b.get("/ui/keyvaults"); p.status != http.StatusOK || !strings.Contains(p.body, kv.ID) {
		t.Errorf("key vaults: %d\n%s", p.status, p.body)
	}
	if p := b.get("/ui/keyvaults/" + kv.ID); p.status != http.StatusOK || !strings.Contains(p.body, ">db<") {
		t.Errorf("key vault secrets: %d\n%s", p.status, p.body)
	}
	if p := b.post("/ui/keyvaults/"+kv.ID+"/secrets/"+s.ID+"/retry", url.Values{"csrf": {csrf}}); p.status < 400 || p.status >= 500 {
		t.Errorf("retry of a secret that waits for none: %d\n%s", p.status, p.body)
	}
}

// TestSecretForms creates, edits, deletes and restores a secret through
// the forms, and checks the diff's refusals.
func TestSecretForms(t *testing.T) {
	n := nodetest.Start(t)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	project := n.Creds.ProjectID
	p := b.post("/ui/projects/"+project+"/secrets", url.Values{"csrf": {csrf}, "path": {"/svc"}, "name": {"token"},
		"type": {"opaque"}, "tags": {"a, b"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", p.status, p.body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(p.header.Get("Location"), "/ui/secrets/"), "/")
	if p := b.post("/ui/projects/"+project+"/secrets", url.Values{"csrf": {csrf}, "path": {"/svc"}, "name": {"token"}, "type": {"opaque"}}); p.status != http.StatusConflict {
		t.Errorf("create again: %d\n%s", p.status, p.body)
	}
	if p := b.post("/ui/secrets/"+id+"/versions", url.Values{"csrf": {csrf}, "value": {"plain text"}}); p.status != http.StatusSeeOther {
		t.Fatalf("text version: %d\n%s", p.status, p.body)
	}
	if p := b.post("/ui/secrets/"+id+"/edit", url.Values{"csrf": {csrf}, "path": {"/svc/moved"}, "name": {"token2"},
		"description": {"moved"}, "tags": {"c"}}); p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", p.status, p.body)
	}
	s, err := n.Engine.GetSecret(admin(t, n), id)
	if err != nil {
		t.Fatal(err)
	}
	if s.FullPath() != "svc/moved/token2" || s.Description != "moved" || strings.Join(s.Tags, ",") != "c" || s.LastRevision != 1 {
		t.Errorf("after edit: %s %q %v revision %d", s.FullPath(), s.Description, s.Tags, s.LastRevision)
	}
	if p := b.get("/ui/secrets/" + id + "/diff?from=1&to=1"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "key_value") {
		t.Errorf("diff of an opaque secret: %d\n%s", p.status, p.body)
	}
	if p := b.post("/ui/secrets/"+id+"/delete", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d\n%s", p.status, p.body)
	}
	if p := b.get("/ui/secrets/" + id + "/"); !strings.Contains(p.body, `id="restore-secret"`) {
		t.Errorf("a deleted secret's page has no restore:\n%s", p.body)
	}
	if p := b.post("/ui/secrets/"+id+"/restore", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("restore: %d\n%s", p.status, p.body)
	}

	// A version that expires once read cannot be compared.
	ctx := admin(t, n)
	e, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: project, Path: "/", Name: "once", Type: coffer.TypeKeyValue,
		Ephemeral: &coffer.EphemeralPolicy{ExpiresOnceAccessed: true, Action: coffer.EphemeralDisable}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`{"a":"1"}`, `{"a":"2"}`} {
		if _, _, err := n.Engine.CreateVersion(ctx, e.ID, coffer.VersionCreate{Data: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if p := b.get("/ui/secrets/" + e.ID + "/diff?from=1&to=2"); p.status != http.StatusConflict || !strings.Contains(p.body, "expires once accessed") {
		t.Errorf("diff of versions that expire once read: %d\n%s", p.status, p.body)
	}
	if v := version(t, n, e.ID, 1); v.State != coffer.VersionEnabled {
		t.Errorf("after the refused diff, revision 1 is %s", v.State)
	}
}

// TestPathLimited checks a principal limited to a folder: the folders
// above it list only what it may see, with no button, and its own folder
// has the buttons its policy grants.
func TestPathLimited(t *testing.T) {
	n := nodetest.Start(t)
	kvSecret(t, n, "/team/app", "db", `{"a":"1"}`)
	kvSecret(t, n, "/other", "hidden", `{"a":"1"}`)
	ctx := admin(t, n)
	p, err := n.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalUser, Name: "team"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreatePolicy(ctx, coffer.PolicyCreate{PrincipalID: p.ID, ProjectID: n.Creds.ProjectID, PathPrefix: "/team",
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerFullAccess}}); err != nil {
		t.Fatal(err)
	}
	k, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: p.ID, DefaultProjectID: n.Creds.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, n)
	b.login(k.SecretKey)
	root := b.get("/ui/projects/" + n.Creds.ProjectID + "/")
	if root.status != http.StatusOK || !strings.Contains(root.body, ">team/<") || strings.Contains(root.body, "other") || strings.Contains(root.body, `id="new-secret"`) {
		t.Errorf("the root for a principal limited to /team: %d\n%s", root.status, root.body)
	}
	team := b.get("/ui/projects/" + n.Creds.ProjectID + "/?path=/team/app")
	if team.status != http.StatusOK || !strings.Contains(team.body, ">db<") || !strings.Contains(team.body, `id="new-secret"`) {
		t.Errorf("/team/app for a principal limited to /team: %d\n%s", team.status, team.body)
	}
}

// TestPaging checks a folder of more secrets than a page: the pages, their
// counts and links, and a name search.
func TestPaging(t *testing.T) {
	n := nodetest.Start(t)
	ctx := admin(t, n)
	for i := range 57 {
		if _, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Path: "/many",
			Name: "s" + strconv.Itoa(1000+i), Type: coffer.TypeOpaque}); err != nil {
			t.Fatal(err)
		}
	}
	kvSecret(t, n, "/many/sub", "s1003", `{"a":"1"}`)
	b := newBrowser(t, n)
	b.login(n.Creds.SecretKey)
	first := b.get("/ui/projects/" + n.Creds.ProjectID + "/?path=/many")
	if first.status != http.StatusOK || !strings.Contains(first.body, "1–50 of 58") || !strings.Contains(first.body, `id="next-page"`) {
		t.Fatalf("first page: %d\n%s", first.status, first.body)
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next" id="next-page">`).FindStringSubmatch(first.body)
	second := b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if second.status != http.StatusOK || !strings.Contains(second.body, "51–58 of 58") || strings.Contains(second.body, `id="next-page"`) || !strings.Contains(second.body, ">s1056<") {
		t.Errorf("second page: %d\n%s", second.status, second.body)
	}
	found := b.get("/ui/projects/" + n.Creds.ProjectID + "/?path=/many&name=s1003")
	if found.status != http.StatusOK || !strings.Contains(found.body, "1–2 of 2") || !strings.Contains(found.body, "many/sub/s1003") {
		t.Errorf("name search: %d\n%s", found.status, found.body)
	}
	typed := b.get("/ui/projects/" + n.Creds.ProjectID + "/?path=/many/sub&type=opaque")
	if typed.status != http.StatusOK || strings.Contains(typed.body, "s1003") {
		t.Errorf("type filter: %d\n%s", typed.status, typed.body)
	}
}

// TestUpload writes a version from an uploaded file.
func TestUpload(t *testing.T) {
	n := nodetest.Start(t)
	s := secretOfType(t, n, coffer.TypeOpaque)
	b := newBrowser(t, n)
	csrf := b.login(n.Creds.SecretKey)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "cert.pem")
	_, _ = fw.Write([]byte("uploaded\x00bytes"))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, n.URL+"/ui/secrets/"+s.ID+"/versions", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if p := b.do(req); p.status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", p.status, p.body)
	}
	_, _, data, err := n.Engine.AccessVersion(admin(t, n), s.ID, coffer.RevisionN(1))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "uploaded\x00bytes" {
		t.Errorf("uploaded version holds %q", []byte(data))
	}
}
