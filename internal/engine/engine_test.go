package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// env is a real node (SQLite, keyring, engine) and an admin context.
type env struct {
	n     *nodetest.Node
	ctx   context.Context
	clock *nodetest.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := nodetest.NewClock()
	n := nodetest.Start(t, nodetest.WithNow(clock.Now))
	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return &env{n: n, ctx: coffer.NewContextWithCaller(context.Background(), c), clock: clock}
}

func (e *env) secret(t *testing.T, c coffer.SecretCreate) *coffer.Secret {
	t.Helper()
	c.ProjectID = e.n.Creds.ProjectID
	s, err := e.n.Engine.CreateSecret(e.ctx, c)
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
	return s
}

func (e *env) write(t *testing.T, id string, data string, cas *uint32) (*coffer.Secret, *coffer.Version, error) {
	t.Helper()
	return e.n.Engine.CreateVersion(e.ctx, id, coffer.VersionCreate{Data: coffer.Payload(data), CAS: cas})
}

func (e *env) read(t *testing.T, id string, rev coffer.Revision) (string, error) {
	t.Helper()
	_, _, data, err := e.n.Engine.AccessVersion(e.ctx, id, rev)
	return string(data), err
}

func ptr[T any](v T) *T { return &v }

func wantCode(t *testing.T, err error, code, precondition string) {
	t.Helper()
	e := coffer.AsError(err)
	if e == nil || e.Code != code || (precondition != "" && e.Precondition != precondition) {
		t.Fatalf("got %v, want code %s precondition %q", err, code, precondition)
	}
}

func TestCheckAndSet(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Name: "cas"})
	if _, _, err := e.write(t, s.ID, "v1", ptr(uint32(1))); err == nil {
		t.Fatal("cas=1 on a secret without versions must fail")
	} else {
		wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionCASMismatch)
	}
	if _, v, err := e.write(t, s.ID, "v1", ptr(uint32(0))); err != nil || v.Revision != 1 {
		t.Fatalf("cas=0 on a new secret: %v, %v", v, err)
	}
	_, _, err := e.write(t, s.ID, "v2", ptr(uint32(0)))
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionCASMismatch)
	if _, v, err := e.write(t, s.ID, "v2", ptr(uint32(1))); err != nil || v.Revision != 2 {
		t.Fatalf("cas=1 after one write: %v, %v", v, err)
	}

	// cas_required, on the secret and on the project.
	req := e.secret(t, coffer.SecretCreate{Name: "cas-required", CASRequired: true})
	_, _, err = e.write(t, req.ID, "x", nil)
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionCASRequired)
	if _, err := e.n.Engine.UpdateProjectSettings(e.ctx, e.n.Creds.ProjectID, coffer.ProjectSettings{CASRequired: true}); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.write(t, s.ID, "v3", nil)
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionCASRequired)
	// A refused write changes nothing.
	if got, err := e.read(t, s.ID, coffer.Latest); err != nil || got != "v2" {
		t.Fatalf("after refused writes: %q, %v", got, err)
	}
}

func TestMaxVersionsPrunesOldest(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Name: "pruned", MaxVersions: 3})
	for i := 1; i <= 5; i++ {
		if _, _, err := e.write(t, s.ID, fmt.Sprint("v", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	vs, total, err := e.n.Engine.ListVersions(e.ctx, s.ID, coffer.VersionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var revs []uint32
	for _, v := range vs {
		revs = append(revs, v.Revision)
	}
	if diff := cmp.Diff([]uint32{3, 4, 5}, revs); diff != "" || total != 3 {
		t.Errorf("versions kept (-want +got):\n%s total %d", diff, total)
	}
	got, err := e.n.Engine.GetSecret(e.ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OldestRevision != 3 || got.VersionCount != 3 || got.LastRevision != 5 {
		t.Errorf("oldest %d count %d last %d, want 3 3 5", got.OldestRevision, got.VersionCount, got.LastRevision)
	}
	_, err = e.n.Engine.GetVersion(e.ctx, s.ID, coffer.RevisionN(2))
	wantCode(t, err, coffer.ENOTFOUND, "")
	// Revisions are never reused after pruning.
	if _, v, err := e.write(t, s.ID, "v6", nil); err != nil || v.Revision != 6 {
		t.Fatalf("next revision: %v, %v", v, err)
	}
}

func TestStagesAndLatest(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Name: "stages"})
	for _, v := range []string{"a", "b", "c"} {
		if _, _, err := e.write(t, s.ID, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := e.n.Engine.GetSecret(e.ctx, s.ID)
	if diff := cmp.Diff(map[string]uint32{coffer.StageActive: 3, coffer.StagePrevious: 2}, got.Stages); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	// Destroying the latest makes the one below it latest.
	if _, err := e.n.Engine.DestroyVersion(e.ctx, s.ID, coffer.Latest); err != nil {
		t.Fatal(err)
	}
	if v, err := e.read(t, s.ID, coffer.Latest); err != nil || v != "b" {
		t.Errorf("latest after destroying 3: %q, %v", v, err)
	}
	_, err := e.read(t, s.ID, coffer.RevisionN(3))
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionVersionDestroyed)
	// latest_enabled skips disabled versions.
	if _, err := e.n.Engine.DisableVersion(e.ctx, s.ID, coffer.RevisionN(2)); err != nil {
		t.Fatal(err)
	}
	if v, err := e.read(t, s.ID, coffer.LatestEnabled); err != nil || v != "a" {
		t.Errorf("latest_enabled: %q, %v", v, err)
	}
}

func TestCreateVersionByPathCreatesTheSecret(t *testing.T) {
	e := newEnv(t)
	create := &coffer.SecretCreate{ProjectID: e.n.Creds.ProjectID, Path: "/app/prod", Name: "db", Type: coffer.TypeKeyValue}
	s1, v1, err := e.n.Engine.CreateVersion(e.ctx, "", coffer.VersionCreate{Data: coffer.Payload(`{"a":"1"}`), CreateSecret: create})
	if err != nil || v1.Revision != 1 {
		t.Fatalf("first write: %v", err)
	}
	s2, v2, err := e.n.Engine.CreateVersion(e.ctx, "", coffer.VersionCreate{Data: coffer.Payload(`{"a":"2"}`), CreateSecret: create})
	if err != nil || v2.Revision != 2 || s2.ID != s1.ID {
		t.Fatalf("second write: %v (ids %s %s)", err, s1.ID, s2.ID)
	}
	if s1.FullPath() != "app/prod/db" {
		t.Errorf("full path %q", s1.FullPath())
	}
	got, err := e.n.Engine.GetSecretByPath(e.ctx, e.n.Creds.ProjectID, "/app/prod", "db")
	if err != nil || got.ID != s1.ID {
		t.Fatalf("by path: %v", err)
	}
}

// TestConcurrentWritersNeverShareARevision runs writers on one secret at
// once: every write gets its own revision, with no gap.
func TestConcurrentWritersNeverShareARevision(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Name: "busy", MaxVersions: 1000})
	const writers, each = 8, 20
	var (
		mu   sync.Mutex
		seen = map[uint32]bool{}
		wg   sync.WaitGroup
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, v, err := e.n.Engine.CreateVersion(e.ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload("x")})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[v.Revision] {
					t.Errorf("revision %d given twice", v.Revision)
				}
				seen[v.Revision] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for r := uint32(1); r <= writers*each; r++ {
		if !seen[r] {
			t.Errorf("revision %d missing", r)
		}
	}
}

func TestVersionTTLDisablesThroughTheJob(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Name: "ttl", VersionTTL: time.Hour})
	if _, _, err := e.write(t, s.ID, "short-lived", nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Minute)
	if n, err := e.n.Engine.RunDue(e.ctx); err != nil || n != 0 {
		t.Fatalf("before expiry the job changes nothing: %d, %v", n, err)
	}
	if v, err := e.read(t, s.ID, coffer.Latest); err != nil || v != "short-lived" {
		t.Fatalf("before expiry: %q, %v", v, err)
	}
	e.clock.Advance(2 * time.Minute)
	if n, err := e.n.Engine.RunDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("after expiry the job disables one version: %d, %v", n, err)
	}
	v, err := e.n.Engine.GetVersion(e.ctx, s.ID, coffer.Latest)
	if err != nil || v.State != coffer.VersionDisabled || v.DisabledAt == nil {
		t.Fatalf("after the job: %+v, %v", v, err)
	}
}

func TestUnauthenticatedCallsAreRefused(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.n.Engine.ListSecrets(context.Background(), coffer.SecretFilter{})
	wantCode(t, err, coffer.EUNAUTHENTICATED, "")
	for _, key := range []string{"", "not-a-key", e.n.Creds.SecretKey + "x", "00000000-0000-4000-8000-000000000000"} {
		_, err := e.n.Engine.AuthenticateSecretKey(context.Background(), key)
		wantCode(t, err, coffer.EUNAUTHENTICATED, "")
	}
}

// TestUndeleteVersion brings a version back from every state but destroyed,
// as Vault's undelete and OKMS's "active" do whichever dialect changed it.
func TestUndeleteVersion(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Name: "undelete"})
	for _, v := range []string{"v1", "v2", "v3"} {
		if _, _, err := e.write(t, s.ID, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	eng := e.n.Engine
	if _, err := eng.DisableVersion(e.ctx, s.ID, coffer.RevisionN(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ScheduleVersionDeletion(e.ctx, s.ID, coffer.RevisionN(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.DestroyVersion(e.ctx, s.ID, coffer.RevisionN(3)); err != nil {
		t.Fatal(err)
	}
	for rev, want := range map[uint32]string{1: "v1", 2: "v2"} {
		v, err := eng.UndeleteVersion(e.ctx, s.ID, coffer.RevisionN(rev))
		if err != nil || v.State != coffer.VersionEnabled || v.DeletionRequestedAt != nil || v.DisabledAt != nil {
			t.Fatalf("undelete %d: %+v, %v", rev, v, err)
		}
		if got, err := e.read(t, s.ID, coffer.RevisionN(rev)); err != nil || got != want {
			t.Errorf("read %d after undelete: %q, %v", rev, got, err)
		}
	}
	_, err := eng.UndeleteVersion(e.ctx, s.ID, coffer.RevisionN(3))
	wantCode(t, err, coffer.EPRECONDITION, "")
	// Enable, unlike undelete, does not bring back a version scheduled for
	// deletion: Scaleway restores those explicitly.
	if _, err := eng.ScheduleVersionDeletion(e.ctx, s.ID, coffer.RevisionN(2)); err != nil {
		t.Fatal(err)
	}
	_, err = eng.EnableVersion(e.ctx, s.ID, coffer.RevisionN(2))
	wantCode(t, err, coffer.EPRECONDITION, "")
}
