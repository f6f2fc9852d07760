package main

import (
	"context"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestVaultAndSync drives key vaults through the CLI: a vault bound to a
// second node's Vault API, a secret written through the Scaleway API (the
// CLI's secret commands), its deployment, and sync status.
func TestVaultAndSync(t *testing.T) {
	c, n := newCLI(t)
	target := nodetest.Start(t)
	out := c.with("COFFER_TARGET_CREDENTIAL", target.Creds.SecretKey).ok("vault", "create", "app",
		"--target", "vault", "--address", target.URL)
	f := fields(t, out)
	id := f["id"]
	if id == "" || f["path"] != "/app" || f["target"] != "vault" || strings.Contains(out, target.Creds.SecretKey) {
		t.Fatalf("vault create printed %q", out)
	}
	if list := c.ok("vault", "list"); !strings.Contains(list, id) {
		t.Fatalf("vault list = %q", list)
	}
	if got := c.ok("vault", "get", id, "--json"); strings.Contains(got, target.Creds.SecretKey) || !strings.Contains(got, `"kind": "vault"`) {
		t.Fatalf("vault get = %q", got)
	}

	// Renamed, and its credential replaced (from the environment, never
	// printed); a flag-less update and an empty credential are refused.
	upd := c.with("COFFER_TARGET_CREDENTIAL", target.Creds.SecretKey).ok("vault", "update", id, "--name", "app2", "--credential")
	if f := fields(t, upd); f["name"] != "app2" || f["path"] != "/app" || strings.Contains(upd, target.Creds.SecretKey) {
		t.Fatalf("vault update printed %q", upd)
	}
	c.fail(2, "vault", "update", id)
	c.with("COFFER_TARGET_CREDENTIAL", "").fail(2, "vault", "update", id, "--credential")

	ctx := context.Background()
	caller, err := n.Engine.AuthenticateSecretKey(ctx, n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	actx := coffer.NewContextWithCaller(ctx, caller)
	if _, _, err := n.Engine.CreateSecretWithVersion(actx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Path: "/app", Name: "db"},
		coffer.VersionCreate{Data: []byte("pw")}); err != nil {
		t.Fatal(err)
	}
	if st := c.ok("sync", "status"); !strings.Contains(st, "start") || !strings.Contains(st, "1 pending, 0 failed") {
		t.Fatalf("sync status before the job = %q", st)
	}
	if _, err := n.Engine.RunSync(ctx, engine.Fence{}); err != nil {
		t.Fatal(err)
	}
	if st := c.ok("sync", "status"); !strings.Contains(st, "available") || !strings.Contains(st, "0 pending, 0 failed") {
		t.Fatalf("sync status after the job = %q", st)
	}
	if imp := fields(t, c.ok("vault", "import", id))["imported"]; imp != "0" {
		t.Fatalf("import of what the vault holds imported %s", imp)
	}
	c.fail(1, "vault", "delete", id) // it holds a secret
	c.fail(2, "vault", "get")
}
