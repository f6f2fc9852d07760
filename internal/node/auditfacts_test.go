package node_test

import (
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestAuditByIDWriteNamesItsProject writes, by id, a version of a secret
// that lives in a second project, with a key whose default project is the
// first: the record names the secret's project, which the engine resolved,
// not the caller's default.
func TestAuditByIDWriteNamesItsProject(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	p, err := n.Engine.CreateProject(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: p.ID, Name: "db", Path: "/app", Type: coffer.TypeOpaque})
	if err != nil {
		t.Fatal(err)
	}
	code, body, id := auditCall(t, n, "POST", "/secret-manager/v1beta1/regions/fr-par/secrets/"+s.ID+"/versions",
		`{"data":"c2VjcmV0"}`, "X-Auth-Token", n.Creds.SecretKey)
	if code != 200 {
		t.Fatalf("create version: %d %s", code, body)
	}
	r := byRequestID(t, auditRecords(t, ctx, n), id)
	if r.ProjectID != p.ID || r.SecretID != s.ID || r.Path != "app/db" || r.Revision != "1" {
		t.Errorf("record names project %q secret %q path %q revision %q; want %q %q app/db 1",
			r.ProjectID, r.SecretID, r.Path, r.Revision, p.ID, s.ID)
	}
	if r.ProjectID == n.Creds.ProjectID {
		t.Error("the record names the caller's default project")
	}
}

// TestAuditJobRecords checks that what the background jobs do leaves
// records of its own: an ephemeral expiry by the due-versions job is
// recorded as the system, with the job, the secret and the version.
func TestAuditJobRecords(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, nodetest.WithNow(clock.Now))
	ctx := as(t, n)
	s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{
		ProjectID: n.Creds.ProjectID, Name: "short", Path: "/tmp", Type: coffer.TypeOpaque,
		Ephemeral: &coffer.EphemeralPolicy{TTL: time.Minute, Action: coffer.EphemeralDisable},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload("x")}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if got, err := n.Engine.RunDueVersions(ctx, engine.Fence{}); err != nil || got != 1 {
		t.Fatalf("due versions: %d, %v", got, err)
	}
	var job []*coffer.AuditRecord
	for _, r := range auditRecords(t, ctx, n) {
		if r.Dialect == "system" {
			job = append(job, r)
		}
	}
	if len(job) != 1 {
		t.Fatalf("%d system records, want 1: %+v", len(job), job)
	}
	r := job[0]
	if r.PrincipalID != engine.SystemPrincipal || r.Action != engine.JobDueVersions+" expire" || r.SecretID != s.ID ||
		r.Revision != "1" || r.ProjectID != n.Creds.ProjectID || r.OrganizationID != n.Creds.OrganizationID || r.Outcome != coffer.AuditOK {
		t.Errorf("job record %+v", r)
	}
	v, err := n.Engine.GetVersion(ctx, s.ID, coffer.RevisionN(1))
	if err != nil || v.State != coffer.VersionDisabled {
		t.Fatalf("version after expiry: %+v, %v", v, err)
	}
}
