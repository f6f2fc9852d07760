package imco_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// TestSyncOnceAcrossNodes runs three nodes on one PostgreSQL schema, each
// with its scheduler, and writes versions through all three: each version
// reaches the target once. It needs COFFER_TEST_POSTGRES.
func TestSyncOnceAcrossNodes(t *testing.T) {
	store := pgtest.NewSchema(t)
	dir, key := t.TempDir(), nodetest.NewRootKey()
	var nodes []*nodetest.Node
	for range 3 {
		n := nodetest.Start(t, nodetest.WithStore(store), nodetest.WithDataDir(dir, key),
			nodetest.WithJobTiming(20*time.Millisecond, 2*time.Second, 200*time.Millisecond))
		n.StartJobs()
		nodes = append(nodes, n)
	}
	target := nodetest.Start(t)
	c := newClient(t, nodes[0], nodes[0].Creds.SecretKey)
	var v keyVault
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults", jsonBody(t, map[string]any{
		"name": "ha", "project_id": nodes[0].Creds.ProjectID, "target_kind": "vault",
		"target_address": target.URL, "target_credential": target.Creds.SecretKey,
	}), &v)
	var s secret
	c.ok(http.StatusCreated, "POST", "/v3/secret/key_vaults/"+v.ID+"/secrets", `{"name":"shared","content":"v1"}`, &s)
	for i := 2; i <= 6; i++ {
		ci := newClient(t, nodes[i%3], nodes[0].Creds.SecretKey)
		ci.ok(http.StatusCreated, "POST", "/v3/secret/secrets/"+s.ID+"/versions", fmt.Sprintf(`{"content":"v%d"}`, i), nil)
		time.Sleep(15 * time.Millisecond)
	}
	// Every version reaches the target (the nodes' read caches may show
	// the secret available a moment before the last one is pushed).
	kv := vaultKV(t, target)
	deadline := time.Now().Add(15 * time.Second)
	for {
		versions, err := kv.GetVersionsAsList(t.Context(), "shared")
		if err == nil && len(versions) >= 6 && getSecret(t, c, s.ID).State == "available" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not deployed: %d versions (%v), %+v", len(versions), err, getSecret(t, c, s.ID))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // more passes, on every node
	versions, err := kv.GetVersionsAsList(t.Context(), "shared")
	if err != nil || len(versions) != 6 {
		t.Fatalf("target versions %d, %v; want 6", len(versions), err)
	}
	for _, n := range nodes {
		n.Stop(t)
	}
	pushes := 0
	for _, rec := range nodetest.OpenSQL(t, dir, store).AuditRecords(t) {
		if rec.PrincipalID == engine.SystemPrincipal && rec.Action == engine.JobSync+" push" {
			pushes++
		}
	}
	if pushes != 6 {
		t.Fatalf("%d push records, want 6", pushes)
	}
}
