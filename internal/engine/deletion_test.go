package engine_test

import (
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
)

// TestProjectDeletionDelay: a project's waiting period dates every
// scheduled deletion of a secret (NAVER's request-deletion, Scaleway's
// DeleteSecret); a version's stays coffer.DeletionDelay.
func TestProjectDeletionDelay(t *testing.T) {
	e := newEnv(t)
	eng := e.n.Engine
	project := e.n.Creds.ProjectID
	for _, bad := range []time.Duration{time.Hour, 91 * 24 * time.Hour, -time.Hour} {
		_, err := eng.ChangeProjectSettings(e.ctx, project, coffer.ProjectSettingsUpdate{DeletionDelay: &bad})
		wantCode(t, err, coffer.EINVALID, "")
	}
	delay := 2 * 24 * time.Hour
	p, err := eng.ChangeProjectSettings(e.ctx, project, coffer.ProjectSettingsUpdate{DeletionDelay: &delay})
	if err != nil {
		t.Fatal(err)
	}
	if p.Settings.DeletionDelay != delay || p.Settings.MaxVersions != coffer.DefaultMaxVersions {
		t.Fatalf("settings %+v", p.Settings)
	}
	if p, err = eng.GetProject(e.ctx, project); err != nil || p.Settings.SecretDeletionDelay() != delay {
		t.Fatalf("stored settings %+v, %v", p, err)
	}
	now := e.clock.Now()

	a := e.secret(t, coffer.SecretCreate{Name: "a"})
	s, err := eng.RequestSecretDeletion(e.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.PurgeAt == nil || !s.PurgeAt.Equal(now.Add(delay)) {
		t.Errorf("request-deletion purges at %v, want %v", s.PurgeAt, now.Add(delay))
	}
	b := e.secret(t, coffer.SecretCreate{Name: "b"})
	if err := eng.DeleteSecret(e.ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if s, err = eng.GetSecret(e.ctx, b.ID); err != nil || s.PurgeAt == nil || !s.PurgeAt.Equal(now.Add(delay)) {
		t.Errorf("DeleteSecret purges at %v (%v), want %v", s.PurgeAt, err, now.Add(delay))
	}
	c := e.secret(t, coffer.SecretCreate{Name: "c"})
	if _, _, err := e.write(t, c.ID, "x", nil); err != nil {
		t.Fatal(err)
	}
	v, err := eng.ScheduleVersionDeletion(e.ctx, c.ID, coffer.Revision{Number: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v.PurgeAt == nil || !v.PurgeAt.Equal(now.Add(coffer.DeletionDelay)) {
		t.Errorf("a version purges at %v, want %v", v.PurgeAt, now.Add(coffer.DeletionDelay))
	}
}
