package imco_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	scwsecret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
	"github.com/scaleway/scaleway-sdk-go/scw"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// switchable is a proxy in front of a target node that can be taken down:
// while down, every connection is dropped, as a stopped server's would be,
// and the target's address stays the same.
type switchable struct {
	URL  string
	down atomic.Bool
	// beforeWrite, when set, runs before a write is forwarded.
	beforeWrite atomic.Pointer[func()]
}

func newSwitchable(t *testing.T, target *nodetest.Node) *switchable {
	u, err := url.Parse(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	s := &switchable{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			panic(http.ErrAbortHandler)
		}
		if fn := s.beforeWrite.Load(); fn != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
			(*fn)()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// sync runs the source node's sync job once, outside any lease.
func runSync(t *testing.T, n *nodetest.Node) int {
	t.Helper()
	done, err := n.Engine.RunSync(context.Background(), engine.Fence{})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return done
}

func getSecret(t *testing.T, c *client, id string) secret {
	t.Helper()
	var s secret
	c.ok(http.StatusOK, "GET", "/v3/secret/secrets/"+id, "", &s)
	return s
}

func wantState(t *testing.T, c *client, id, state string) secret {
	t.Helper()
	s := getSecret(t, c, id)
	if s.State != state {
		t.Fatalf("secret %s is %s (%s), want %s", id, s.State, s.ErrorMessage, state)
	}
	return s
}

// vaultKV returns a Vault client of a node's KV v2 mount.
func vaultKV(t *testing.T, n *nodetest.Node) *vault.KVv2 {
	cfg := vault.DefaultConfig()
	cfg.Address = n.URL
	cfg.MaxRetries = 0
	vc, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(n.Creds.SecretKey)
	return vc.KVv2("secret")
}

// scwAPI returns a Scaleway client of a node.
func scwAPI(t *testing.T, n *nodetest.Node) *scwsecret.API {
	sc, err := scw.NewClient(scw.WithAPIURL(n.URL), scw.WithAuth("SCWXXXXXXXXXXXXXXXXX", n.Creds.SecretKey),
		scw.WithDefaultRegion("fr-par"), scw.WithDefaultProjectID(n.Creds.ProjectID))
	if err != nil {
		t.Fatal(err)
	}
	return scwsecret.NewAPI(sc)
}

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSyncToVault(t *testing.T) {
	clock := nodetest.NewClock()
	target := nodetest.Start(t)
	proxy := newSwitchable(t, target)
	var logs lockedBuffer
	src := nodetest.Start(t, nodetest.WithNow(clock.Now),
		nodetest.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	c := newClient(t, src, src.Creds.SecretKey)
	kv := vaultKV(t, target)
	ctx := context.Background()

	var v keyVault
	r := c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "deploy", "project_id": src.Creds.ProjectID, "target_kind": "vault",
		"target_address": proxy.URL, "target_credential": target.Creds.SecretKey, "target_mount": "secret",
	}), &v)
	answers := []response{r}
	answers = append(answers, c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+v.ID, "", nil))
	answers = append(answers, c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults", "", nil))

	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+v.ID+"/secrets", `{"name":"api-key","content":"one","desired_remote_id":"app-api-key"}`, &s)
	if s.State != "deploying" {
		t.Fatalf("new secret is %s, want deploying", s.State)
	}
	if n := runSync(t, src); n != 1 {
		t.Fatalf("sync did %d actions, want 1", n)
	}
	s = wantState(t, c, s.ID, "available")
	if s.RemoteID != "app-api-key" {
		t.Fatalf("remote id %q", s.RemoteID)
	}
	got, err := kv.Get(ctx, "app-api-key")
	if err != nil || got.Data["value"] != "one" {
		t.Fatalf("target holds %v, %v", got, err)
	}

	// A version through IMCO and one through the Scaleway API of the
	// source: both reach the target, in order.
	c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"two"}`, nil)
	wantState(t, c, s.ID, "updating_versions")
	if _, err := scwAPI(t, src).CreateSecretVersion(&scwsecret.CreateSecretVersionRequest{SecretID: s.ID, Data: []byte(`{"user":"u","password":"three"}`)}); err != nil {
		t.Fatal(err)
	}
	wantState(t, c, s.ID, "updating_versions")
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	versions, err := kv.GetVersionsAsList(ctx, "app-api-key")
	if err != nil || len(versions) != 3 {
		t.Fatalf("target versions %d, %v; want 3", len(versions), err)
	}
	got, _ = kv.Get(ctx, "app-api-key")
	if got.Data["password"] != "three" {
		t.Fatalf("target's latest = %v", got.Data)
	}

	// The target goes down: the push fails, the error is recorded, the job
	// backs off.
	proxy.down.Store(true)
	c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"four"}`, nil)
	runSync(t, src)
	failed := wantState(t, c, s.ID, "updating_error")
	if failed.ErrorMessage == "" || strings.Contains(failed.ErrorMessage, target.Creds.SecretKey) {
		t.Fatalf("a failed push records the error %q", failed.ErrorMessage)
	}
	if n := runSync(t, src); n != 0 {
		t.Fatalf("sync retried at once (%d actions) instead of backing off", n)
	}
	clock.Advance(engine.SyncBackoff)
	runSync(t, src) // fails again, later
	wantState(t, c, s.ID, "updating_error")

	// Back up; retry resumes, and nothing is pushed twice.
	proxy.down.Store(false)
	var retried secret
	c.ok(http.StatusOK, "PUT", "/v3/secret/secrets/"+s.ID+"/retry", "", &retried)
	if retried.State != "updating_versions" {
		t.Fatalf("retried secret is %s", retried.State)
	}
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	c.fail(http.StatusUnprocessableEntity, "PUT", "/v3/secret/secrets/"+s.ID+"/retry", "")
	if versions, _ = kv.GetVersionsAsList(ctx, "app-api-key"); len(versions) != 4 {
		t.Fatalf("target versions %d, want 4", len(versions))
	}

	// A node that died between the remote write and its local commit:
	// the next pass finds the value there and writes nothing.
	if _, err := src.SQL(t).Exec(`UPDATE deployments SET pushed_revision = pushed_revision - 1, state = 'updating_versions' WHERE secret_id = ?`, s.ID); err != nil {
		t.Fatal(err)
	}
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	if versions, _ = kv.GetVersionsAsList(ctx, "app-api-key"); len(versions) != 4 {
		t.Fatalf("target versions %d after a repaired crash, want 4", len(versions))
	}

	// DELETE decommissions the remote copy, then the secret ends.
	var deleted secret
	c.ok(http.StatusOK, "DELETE", "/v3/secret/secrets/"+s.ID, "", &deleted)
	if deleted.State != "decommissioning" {
		t.Fatalf("deleted secret is %s", deleted.State)
	}
	runSync(t, src)
	c.fail(http.StatusNotFound, "GET", "/v3/secret/secrets/"+s.ID, "")
	if _, err := kv.Get(ctx, "app-api-key"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("the target still holds the secret: %v", err)
	}

	// The target's credential is in no answer and no audit record.
	for _, r := range answers {
		if strings.Contains(string(r.Body), target.Creds.SecretKey) {
			t.Fatalf("an answer holds the target's credential: %s", r.Body)
		}
	}
	src.Stop(t)
	if l := logs.String(); !strings.Contains(l, "key vault sync failed") || strings.Contains(l, target.Creds.SecretKey) {
		t.Fatalf("the logs miss the failure or hold the target's credential:\n%s", l)
	}
	recs := nodetest.OpenSQL(t, src.DataDir, src.Store).AuditRecords(t)
	b, _ := json.Marshal(recs)
	if strings.Contains(string(b), target.Creds.SecretKey) {
		t.Fatal("the audit trail holds the target's credential")
	}
	actions := map[string]int{}
	for _, rec := range recs {
		if rec.PrincipalID == engine.SystemPrincipal {
			actions[rec.Action]++
		}
	}
	want := map[string]int{"sync push": 4, "sync push-found": 1, "sync push-failed": 2, "sync decommission": 1}
	for a, n := range want {
		if actions[a] != n {
			t.Errorf("%d records of %q, want %d (all: %v)", actions[a], a, n, actions)
		}
	}
}

func TestSyncToScaleway(t *testing.T) {
	target := nodetest.Start(t)
	proxy := newSwitchable(t, target)
	src := nodetest.Start(t)
	c := newClient(t, src, src.Creds.SecretKey)
	api := scwAPI(t, target)

	proxy.down.Store(true)
	var v keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "scw", "project_id": src.Creds.ProjectID, "target_kind": "scaleway", "target_address": proxy.URL,
		"target_credential": target.Creds.SecretKey, "target_project": target.Creds.ProjectID, "target_region": "fr-par",
	}), &v)
	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+v.ID+"/secrets", `{"name":"db","content":"pw-1"}`, &s)
	runSync(t, src)
	stalled := wantState(t, c, s.ID, "stalled")
	if stalled.ErrorMessage == "" || stalled.RemoteID != "" {
		t.Fatalf("stalled secret = %+v", stalled)
	}
	proxy.down.Store(false)
	var retried secret
	c.ok(http.StatusOK, "PUT", "/v3/secret/secrets/"+s.ID+"/retry", "", &retried)
	if retried.State != "deploying" {
		t.Fatalf("retried secret is %s", retried.State)
	}
	c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"pw-2"}`, nil)
	runSync(t, src)
	s = wantState(t, c, s.ID, "available")
	if s.RemoteID == "" {
		t.Fatal("no remote id")
	}
	list, err := api.ListSecretVersions(&scwsecret.ListSecretVersionsRequest{SecretID: s.RemoteID})
	if err != nil || list.TotalCount != 2 {
		t.Fatalf("target versions %v, %v; want 2", list, err)
	}
	latest, err := api.AccessSecretVersion(&scwsecret.AccessSecretVersionRequest{SecretID: s.RemoteID, Revision: "latest"})
	if err != nil || string(latest.Data) != "pw-2" {
		t.Fatalf("target's latest = %q, %v", latest.Data, err)
	}
	// A second pass writes nothing.
	if n := runSync(t, src); n != 0 {
		t.Fatalf("an idle pass did %d actions", n)
	}

	// The remote secret scheduled for deletion behind coffer's back: the
	// push fails and says why; restored, a retry deploys to it.
	if err := api.DeleteSecret(&scwsecret.DeleteSecretRequest{SecretID: s.RemoteID}); err != nil {
		t.Fatal(err)
	}
	c.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", `{"content":"pw-3"}`, nil)
	runSync(t, src)
	if e := wantState(t, c, s.ID, "updating_error"); !strings.Contains(e.ErrorMessage, "scheduled for deletion") {
		t.Fatalf("error %q", e.ErrorMessage)
	}
	if _, err := api.RestoreSecret(&scwsecret.RestoreSecretRequest{SecretID: s.RemoteID}); err != nil {
		t.Fatal(err)
	}
	c.ok(http.StatusOK, "PUT", "/v3/secret/secrets/"+s.ID+"/retry", "", nil)
	runSync(t, src)
	wantState(t, c, s.ID, "available")
	latest, err = api.AccessSecretVersion(&scwsecret.AccessSecretVersionRequest{SecretID: s.RemoteID, Revision: "latest"})
	if err != nil || string(latest.Data) != "pw-3" {
		t.Fatalf("target's latest = %q, %v", latest.Data, err)
	}

	// A secret moved out of the vault's folder through another dialect
	// leaves the vault: its remote copy goes, the secret stays.
	if _, err := src.Engine.UpdateSecret(adminContext(t, src), s.ID, coffer.SecretUpdate{Path: ptr("/elsewhere")}); err != nil {
		t.Fatal(err)
	}
	runSync(t, src)
	c.fail(http.StatusNotFound, "GET", "/v3/secret/secrets/"+s.ID, "")
	// Secret Manager schedules a deleted secret's removal.
	if rs, err := api.GetSecret(&scwsecret.GetSecretRequest{SecretID: s.RemoteID}); err == nil && rs.DeletionRequestedAt == nil {
		t.Fatal("the remote copy of a secret that left the vault is still there")
	}
	if moved, err := src.Engine.GetSecret(adminContext(t, src), s.ID); err != nil || moved.Path != "/elsewhere" {
		t.Fatalf("the moved secret: %v, %v", moved, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestBrownfieldImport(t *testing.T) {
	target := nodetest.Start(t)
	src := nodetest.Start(t)
	c := newClient(t, src, src.Creds.SecretKey)
	api := scwAPI(t, target)
	for name, value := range map[string]string{"legacy-a": "A", "legacy-b": `{"k":"B"}`} {
		sec, err := api.CreateSecret(&scwsecret.CreateSecretRequest{ProjectID: target.Creds.ProjectID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := api.CreateSecretVersion(&scwsecret.CreateSecretVersionRequest{SecretID: sec.ID, Data: []byte(value)}); err != nil {
			t.Fatal(err)
		}
	}
	var v keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "imported", "project_id": src.Creds.ProjectID, "target_kind": "scaleway", "target_address": target.URL,
		"target_credential": target.Creds.SecretKey, "target_project": target.Creds.ProjectID, "target_region": "fr-par",
	}), &v)
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID+"/import", "", nil)
	c.ok(http.StatusOK, "PUT", "/v3/secret/key_vaults/"+v.ID+"/import", "", nil)
	var list []secret
	c.ok(http.StatusOK, "GET", "/v3/secret/key_vaults/"+v.ID+"/secrets", "", &list)
	if len(list) != 2 {
		t.Fatalf("imported %+v, want 2 secrets", list)
	}
	for _, s := range list {
		if !s.Brownfield || s.State != "available" || s.RemoteID == "" {
			t.Fatalf("imported secret %+v", s)
		}
		r := c.ok(http.StatusOK, "GET", "/secret/secret_versions/"+s.ID+".1", "", nil)
		want := map[string]string{"legacy-a": "A", "legacy-b": `{"k":"B"}`}[s.Name]
		if string(r.Body) != want {
			t.Fatalf("%s holds %q, want %q", s.Name, r.Body, want)
		}
	}
	if n := runSync(t, src); n != 0 {
		t.Fatalf("sync pushed %d imported versions back", n)
	}
	c.ok(http.StatusNoContent, "DELETE", "/v3/secret/secrets/"+list[0].ID+"/discard", "", nil)
	c.fail(http.StatusNotFound, "GET", "/v3/secret/secrets/"+list[0].ID, "")
	if _, err := api.GetSecret(&scwsecret.GetSecretRequest{SecretID: list[0].RemoteID}); err != nil {
		t.Fatalf("discard touched the target: %v", err)
	}
}

// TestSyncJob lets the scheduler run the sync job.
func TestSyncJob(t *testing.T) {
	target := nodetest.Start(t)
	src := nodetest.Start(t, nodetest.WithJobTiming(50*time.Millisecond, 2*time.Second, 500*time.Millisecond))
	src.StartJobs()
	c := newClient(t, src, src.Creds.SecretKey)
	var v keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "job", "project_id": src.Creds.ProjectID, "target_kind": "vault",
		"target_address": target.URL, "target_credential": target.Creds.SecretKey,
	}), &v)
	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+v.ID+"/secrets", `{"name":"by-job","content":"x"}`, &s)
	deadline := time.Now().Add(10 * time.Second)
	for getSecret(t, c, s.ID).State != "available" {
		if time.Now().After(deadline) {
			t.Fatalf("the job did not deploy the secret: %+v", getSecret(t, c, s.ID))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, err := vaultKV(t, target).Get(context.Background(), "by-job"); err != nil || got.Data["value"] != "x" {
		t.Fatalf("target holds %v, %v", got, err)
	}
}

// TestDeleteDuringPush deletes a secret while its first push is on the
// wire: the remote copy the push creates is removed.
func TestDeleteDuringPush(t *testing.T) {
	target := nodetest.Start(t)
	proxy := newSwitchable(t, target)
	src := nodetest.Start(t)
	c := newClient(t, src, src.Creds.SecretKey)
	var v keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "racy", "project_id": src.Creds.ProjectID, "target_kind": "vault",
		"target_address": proxy.URL, "target_credential": target.Creds.SecretKey,
	}), &v)
	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+v.ID+"/secrets", `{"name":"gone","content":"x"}`, &s)
	var once sync.Once
	del := func() {
		once.Do(func() {
			var d secret
			c.ok(http.StatusOK, "DELETE", "/v3/secret/secrets/"+s.ID, "", &d)
			if d.State != "end" {
				t.Errorf("deleted before any push: %s", d.State)
			}
		})
	}
	proxy.beforeWrite.Store(&del)
	runSync(t, src)
	c.fail(http.StatusNotFound, "GET", "/v3/secret/secrets/"+s.ID, "")
	if _, err := vaultKV(t, target).Get(context.Background(), "gone"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("the push of a deleted secret left a remote copy: %v", err)
	}
}
