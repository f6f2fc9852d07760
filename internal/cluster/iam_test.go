package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
)

// TestRevocationReachesEveryNode: a key disabled or deleted, or a policy
// removed, on one node stops working on the others well before the
// authentication cache would expire.
func TestRevocationReachesEveryNode(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	ctx := c.ctxs[0]
	p, err := a.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := a.Engine.CreatePolicy(ctx, coffer.PolicyCreate{PrincipalID: p.ID, ProjectID: a.Creds.ProjectID,
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerReadOnly}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := a.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: p.ID, DefaultProjectID: a.Creds.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	// list lists secrets on node b with the application's key.
	list := func() string {
		caller, err := b.Engine.AuthenticateSecretKey(context.Background(), k.SecretKey)
		if err != nil {
			return coffer.ErrorCode(err)
		}
		_, _, err = b.Engine.ListSecrets(coffer.NewContextWithCaller(context.Background(), caller), coffer.SecretFilter{ProjectID: b.Creds.ProjectID})
		return coffer.ErrorCode(err)
	}
	if got := list(); got != "" {
		t.Fatalf("before: %q", got)
	}
	// The policy removed on a: b forgets the principal's rules.
	if err := a.Engine.DeletePolicy(ctx, pol.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "policy removal seen by node b", func() bool { return list() == coffer.ENOTFOUND })
	if _, err := a.Engine.CreatePolicy(ctx, coffer.PolicyCreate{PrincipalID: p.ID, ProjectID: a.Creds.ProjectID,
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerReadOnly}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "new policy seen by node b", func() bool { return list() == "" })
	// The key disabled on a: b refuses it.
	if _, err := a.Engine.SetAPIKeyDisabled(ctx, k.AccessKey, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "disabled key refused by node b", func() bool { return list() == coffer.EUNAUTHENTICATED })
	if _, err := a.Engine.SetAPIKeyDisabled(ctx, k.AccessKey, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "enabled key accepted by node b", func() bool { return list() == "" })
	if err := a.Engine.DeleteAPIKey(ctx, k.AccessKey); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "deleted key refused by node b", func() bool { return list() == coffer.EUNAUTHENTICATED })
}
