package ncloud_test

import (
	"net/http"
	"testing"

	"github.com/coffer-dev/coffer"
)

// TestSignedKeyIsolation: a key whose policy is limited to one project and
// one folder, signing NAVER requests, lists and reads only the secrets
// there; a secret of another folder or another project does not exist for
// it, and it can write none there.
func TestSignedKeyIsolation(t *testing.T) {
	n, c, _ := start(t)
	ctx := adminContext(t, n)
	other, err := n.Engine.CreateProject(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(project, path string) string {
		t.Helper()
		s, _, err := n.Engine.CreateSecretWithVersion(ctx,
			coffer.SecretCreate{ProjectID: project, Path: path, Name: "db", Type: coffer.TypeKeyValue},
			coffer.VersionCreate{Data: coffer.Payload(`{"password":"p"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	mine := mk(n.Creds.ProjectID, "/team-a")
	theirs := mk(n.Creds.ProjectID, "/team-b")
	elsewhere := mk(other.ID, "/team-a")

	p, err := n.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreatePolicy(ctx, coffer.PolicyCreate{PrincipalID: p.ID, ProjectID: n.Creds.ProjectID, PathPrefix: "/team-a",
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerFullAccess}}); err != nil {
		t.Fatal(err)
	}
	k, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: p.ID, DefaultProjectID: n.Creds.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	kc := newClient(t, n, c.clock, k.AccessKey, k.SecretKey)

	var l struct {
		SecretList []struct{ SecretID string }
	}
	kc.ok(http.MethodGet, "/api/v1/secrets", "", &l)
	if len(l.SecretList) != 1 || l.SecretList[0].SecretID != mine {
		t.Errorf("the limited key lists %+v, want only %s", l.SecretList, mine)
	}
	kc.ok(http.MethodGet, "/api/v1/secrets/"+mine+"/values", "", nil)
	for _, id := range []string{theirs, elsewhere} {
		kc.fail(http.StatusNotFound, "NOT_FOUND", http.MethodGet, "/api/v1/secrets/"+id+"/values", "")
		kc.fail(http.StatusNotFound, "NOT_FOUND", http.MethodPost, "/api/v1/secrets/"+id+"/disable", "")
	}
	// Nothing changed outside its folder.
	for _, id := range []string{theirs, elsewhere} {
		s, err := n.Engine.GetSecret(ctx, id)
		if err != nil || s.State != coffer.SecretEnabled {
			t.Errorf("secret %s after the limited key's refused calls: %+v, %v", id, s, err)
		}
	}
}
