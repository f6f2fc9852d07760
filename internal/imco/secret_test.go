package imco_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// localVault creates a key vault without target and returns it.
func localVault(t *testing.T, c *client, project, name string) keyVault {
	t.Helper()
	var kv keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{"name": name, "project_id": project}), &kv)
	return kv
}

func TestKeyVaultAndSecretRoutes(t *testing.T) {
	n := nodetest.Start(t)
	c := newClient(t, n, n.Creds.SecretKey)
	project := n.Creds.ProjectID

	// Labels.
	var l label
	c.ok(http.StatusCreated, "POST", "/v3/labels", `{"name":"prod"}`, &l)
	if l.ID == "" || l.Name != "prod" || l.ResourceType != "label" {
		t.Fatalf("label = %+v", l)
	}
	var ls []label
	c.ok(http.StatusOK, "GET", "/v3/labels", "", &ls)
	if len(ls) != 1 || ls[0] != l {
		t.Fatalf("labels = %+v", ls)
	}

	// Key vaults.
	kv := localVault(t, c, project, "payments")
	if kv.Path != "/payments" || kv.State != "available" || kv.TargetKind != "none" || kv.ResourceType != "key_vault" ||
		kv.LabelIDs == nil || kv.ProjectID != project {
		t.Fatalf("key vault = %+v", kv)
	}
	var got keyVault
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+kv.ID, jsonBody(t, map[string]any{"label_ids": []string{l.ID}}), &got)
	if !slices.Equal(got.LabelIDs, []string{l.ID}) {
		t.Fatalf("labelled key vault = %+v", got)
	}
	var kvs []keyVault
	c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults", "", &kvs)
	if len(kvs) != 1 || kvs[0].ID != kv.ID {
		t.Fatalf("key vaults = %+v", kvs)
	}

	// A secret: created with its first version; its content is never in
	// an answer.
	const content = "s3cr3t-content-value"
	var s secret
	r := c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+kv.ID+"/secrets",
		jsonBody(t, map[string]any{"name": "db-password", "content": content, "label_ids": []string{l.ID}, "desired_remote_id": "db_pw"}), &s)
	want := secret{ID: s.ID, Name: "db-password", KeyVaultID: kv.ID, State: "available", DesiredRemoteID: "db_pw",
		LabelIDs: []string{l.ID}, ResourceType: "secret"}
	if s.ID == "" || !equalSecret(s, want) {
		t.Fatalf("created = %+v, want %+v", s, want)
	}
	seen := []response{r}
	seen = append(seen, c.ok(http.StatusOK, "GET", "/v3/secret/secrets/"+s.ID, "", &got))
	var gs secret
	seen = append(seen, c.ok(http.StatusOK, "GET", "/v3/secret/secrets/"+s.ID, "", &gs))
	if !equalSecret(gs, want) {
		t.Fatalf("get = %+v", gs)
	}
	var list []secret
	seen = append(seen, c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+kv.ID+"/secrets", "", &list))
	if len(list) != 1 || !equalSecret(list[0], want) {
		t.Fatalf("list = %+v", list)
	}

	// Versions.
	var v2 version
	seen = append(seen, c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"second"}`, &v2))
	if v2.ID != s.ID+".2" || !v2.Last || v2.ResourceType != "secret_version" || v2.KeyVaultID != kv.ID {
		t.Fatalf("version = %+v", v2)
	}
	var vs []version
	seen = append(seen, c.ok(http.StatusOK, "GET", "/v3/secret/secrets/"+s.ID+"/versions", "", &vs))
	if len(vs) != 2 || vs[0].ID != s.ID+".2" || !vs[0].Last || vs[1].ID != s.ID+".1" || vs[1].Last {
		t.Fatalf("versions = %+v", vs)
	}
	for _, r := range seen {
		if strings.Contains(string(r.Body), content) || strings.Contains(string(r.Body), "second") {
			t.Fatalf("an answer holds the content: %s", r.Body)
		}
	}

	// The agent route hands the raw content out.
	r = c.ok(http.StatusOK, "GET", "/secret/secret_versions/"+s.ID+".1", "", nil)
	if string(r.Body) != content {
		t.Fatalf("agent route = %q", r.Body)
	}
	r = c.ok(http.StatusOK, "GET", "/secret/secret_versions/"+vs[0].ID, "", nil)
	if string(r.Body) != "second" {
		t.Fatalf("agent route = %q", r.Body)
	}

	// One model: the secret is the project's secret in the vault's folder,
	// and a version written through another dialect shows in IMCO.
	sec, err := n.Engine.GetSecretByPath(adminContext(t, n), project, "/payments", "db-password")
	if err != nil || sec.ID != s.ID {
		t.Fatalf("the secret in the folder: %v %v", sec, err)
	}
	if _, _, err := n.Engine.CreateVersion(adminContext(t, n), s.ID, coffer.VersionCreate{Data: []byte("third")}); err != nil {
		t.Fatal(err)
	}
	c.ok(http.StatusOK, "GET", "/v3/secret/secrets/"+s.ID+"/versions", "", &vs)
	if len(vs) != 3 || !vs[0].Last {
		t.Fatalf("versions after a write through the engine = %+v", vs)
	}

	// Labels attach to and detach from secrets and key vaults.
	var l2 label
	c.ok(http.StatusCreated, "POST", "/v3/labels", `{"name":"team-a"}`, &l2)
	var labelled []struct {
		ID           string `json:"id"`
		ResourceType string `json:"resource_type"`
	}
	c.ok(http.StatusOK, "POST", "/v3/labels/"+l2.ID+"/resources", jsonBody(t, map[string]any{"resources": []map[string]string{
		{"id": s.ID, "resource_type": "secret"}, {"id": kv.ID, "resource_type": "key_vault"}}}), &labelled)
	if len(labelled) != 2 || labelled[0].ID != s.ID {
		t.Fatalf("labelled = %+v", labelled)
	}
	if gs = getSecret(t, c, s.ID); !slices.Equal(gs.LabelIDs, []string{l.ID, l2.ID}) {
		t.Fatalf("secret labels = %v", gs.LabelIDs)
	}
	c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+kv.ID, "", &got)
	if !slices.Equal(got.LabelIDs, []string{l.ID, l2.ID}) {
		t.Fatalf("key vault labels = %v", got.LabelIDs)
	}
	c.ok(http.StatusNoContent, "DELETE", "/v3/labels/"+l.ID+"/resources/secret/"+s.ID, "", nil)
	if gs = getSecret(t, c, s.ID); !slices.Equal(gs.LabelIDs, []string{l2.ID}) {
		t.Fatalf("secret labels after detach = %v", gs.LabelIDs)
	}
	c.fail(http.StatusNotFound, "POST", "/v3/labels/nope/resources", `{"resources":[{"id":"`+s.ID+`","resource_type":"secret"}]}`)
	c.fail(http.StatusUnprocessableEntity, "POST", "/v3/labels/"+l.ID+"/resources", `{"resources":[{"id":"`+s.ID+`","resource_type":"server"}]}`)
	c.fail(http.StatusUnprocessableEntity, "POST", "/v3/labels/"+l.ID+"/resources", `{"resources":[]}`)
	// All or none: an unknown resource leaves the known one unlabelled.
	c.fail(http.StatusNotFound, "POST", "/v3/labels/"+l.ID+"/resources", `{"resources":[{"id":"`+s.ID+`","resource_type":"secret"},{"id":"`+s.ID+`x","resource_type":"secret"}]}`)
	if gs = getSecret(t, c, s.ID); !slices.Equal(gs.LabelIDs, []string{l2.ID}) {
		t.Fatalf("secret labels after a refused attach = %v", gs.LabelIDs)
	}

	// Rename, then delete: a secret of a vault without target ends at once.
	c.ok(http.StatusOK, "PUT", "/v3/secret/secrets/"+s.ID, `{"name":"db-pass"}`, &gs)
	if gs.Name != "db-pass" {
		t.Fatalf("renamed = %+v", gs)
	}
	c.ok(http.StatusOK, "DELETE", "/v3/secret/secrets/"+s.ID, "", &gs)
	if gs.State != "end" {
		t.Fatalf("deleted = %+v", gs)
	}
	c.fail(http.StatusNotFound, "GET", "/v3/secret/secrets/"+s.ID, "")
	c.ok(http.StatusOK, "DELETE", "/v3/secret/key_vaults/"+kv.ID, "", &got)
	c.fail(http.StatusNotFound, "GET", "/v3/secret/key_vaults/"+kv.ID, "")
}

// equalSecret compares the fields a client relies on.
func equalSecret(a, b secret) bool {
	return a.ID == b.ID && a.Name == b.Name && a.KeyVaultID == b.KeyVaultID && a.State == b.State &&
		a.RemoteID == b.RemoteID && a.Brownfield == b.Brownfield && a.DesiredRemoteID == b.DesiredRemoteID &&
		slices.Equal(a.LabelIDs, b.LabelIDs) && a.ResourceType == b.ResourceType
}
