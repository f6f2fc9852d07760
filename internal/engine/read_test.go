package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
)

// as returns a context whose caller is a new principal with a policy on
// the whole project that grants sets.
func (e *env) as(t *testing.T, sets ...coffer.PermissionSet) context.Context {
	t.Helper()
	pr, err := e.n.Engine.CreatePrincipal(e.ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.n.Engine.CreatePolicy(e.ctx, coffer.PolicyCreate{PrincipalID: pr.ID, ProjectID: e.n.Creds.ProjectID, PermissionSets: sets}); err != nil {
		t.Fatal(err)
	}
	k, err := e.n.Engine.CreateAPIKey(e.ctx, coffer.APIKeyCreate{PrincipalID: pr.ID, DefaultProjectID: e.n.Creds.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.n.Engine.AuthenticateSecretKey(context.Background(), k.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return coffer.NewContextWithCaller(context.Background(), c)
}

// accessedAt returns when a version's data was last handed out.
func (e *env) accessedAt(t *testing.T, id string, rev uint32) *time.Time {
	t.Helper()
	vs, _, err := e.n.Engine.ListVersionsAccessed(e.ctx, id, coffer.VersionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Revision == rev {
			return v.AccessedAt
		}
	}
	t.Fatalf("no version %d", rev)
	return nil
}

func TestReadVersionRefusesBeforeThePolicyFires(t *testing.T) {
	e := newEnv(t)
	for _, action := range []coffer.EphemeralAction{coffer.EphemeralDisable, coffer.EphemeralDelete} {
		s := e.secret(t, coffer.SecretCreate{Path: "/once", Name: string(action), Type: coffer.TypeOpaque,
			Ephemeral: &coffer.EphemeralPolicy{ExpiresOnceAccessed: true, Action: action}})
		if _, _, err := e.write(t, s.ID, "opaque", nil); err != nil {
			t.Fatal(err)
		}
		in := coffer.VersionRead{ProjectID: s.ProjectID, Path: s.Path, Name: s.Name, Data: true, JSONObject: true}
		_, err := e.n.Engine.ReadVersion(e.ctx, in)
		wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionNotJSONObject)
		if v, err := e.n.Engine.GetVersion(e.ctx, s.ID, coffer.RevisionN(1)); err != nil || v.State != coffer.VersionEnabled {
			t.Fatalf("%s: version after a refused read: %+v, %v", action, v, err)
		}
		if at := e.accessedAt(t, s.ID, 1); at != nil {
			t.Errorf("%s: a refused read is noted as an access at %v", action, at)
		}

		// Without the rule, the data is handed out, once.
		in.JSONObject = false
		rd, err := e.n.Engine.ReadVersion(e.ctx, in)
		if err != nil || !rd.Readable || string(rd.Data) != "opaque" || rd.Version.Revision != 1 || rd.Version.State == coffer.VersionEnabled {
			t.Fatalf("%s: read: %+v, %v", action, rd, err)
		}
		if at := e.accessedAt(t, s.ID, 1); at == nil {
			t.Errorf("%s: the read is not noted as an access", action)
		}
		rd, err = e.n.Engine.ReadVersion(e.ctx, in)
		if err != nil || rd.Readable || rd.Data != nil || rd.Version.Revision != 1 {
			t.Errorf("%s: second read: %+v, %v", action, rd, err)
		}
	}
}

func TestReadVersion(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Path: "/app", Name: "cfg"})
	in := coffer.VersionRead{ProjectID: s.ProjectID, Path: "/app", Name: "cfg", Data: true}

	// No version yet: the secret alone.
	if rd, err := e.n.Engine.ReadVersion(e.ctx, in); err != nil || rd.Secret.ID != s.ID || rd.Version != nil || rd.Readable {
		t.Fatalf("secret without versions: %+v, %v", rd, err)
	}
	for _, d := range []string{`{"v":1}`, `{"v":2}`} {
		if _, _, err := e.write(t, s.ID, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.n.Engine.DisableVersion(e.ctx, s.ID, coffer.RevisionN(2)); err != nil {
		t.Fatal(err)
	}
	// The current version is the last one, disabled: its metadata alone.
	if rd, err := e.n.Engine.ReadVersion(e.ctx, in); err != nil || rd.Version.Revision != 2 || rd.Readable || rd.Data != nil {
		t.Fatalf("disabled current version: %+v, %v", rd, err)
	}
	in.Revision = 1
	if rd, err := e.n.Engine.ReadVersion(e.ctx, in); err != nil || !rd.Readable || string(rd.Data) != `{"v":1}` {
		t.Fatalf("version 1: %+v, %v", rd, err)
	}
	in.Revision = 3
	_, err := e.n.Engine.ReadVersion(e.ctx, in)
	wantCode(t, err, coffer.ENOTFOUND, "")
	_, err = e.n.Engine.ReadVersion(e.ctx, coffer.VersionRead{ProjectID: s.ProjectID, Path: "/app", Name: "none", Data: true})
	wantCode(t, err, coffer.ENOTFOUND, "")

	// A version whose expiry has passed reads as not readable; a read with
	// data applies its expiry.
	if _, err := e.n.Engine.UpdateVersion(e.ctx, s.ID, coffer.RevisionN(1), coffer.VersionUpdate{
		Ephemeral: &coffer.EphemeralProperties{ExpiresAt: ptr(e.clock.Now().Add(time.Minute)), Action: coffer.EphemeralDisable},
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	in.Revision, in.Data = 1, false
	if rd, err := e.n.Engine.ReadVersion(e.ctx, in); err != nil || rd.Readable || rd.Version.State != coffer.VersionEnabled {
		t.Fatalf("expired version, metadata: %+v, %v", rd, err)
	}
	in.Data = true
	if rd, err := e.n.Engine.ReadVersion(e.ctx, in); err != nil || rd.Readable || rd.Data != nil || rd.Version.State != coffer.VersionDisabled {
		t.Fatalf("expired version, data: %+v, %v", rd, err)
	}

	// A secret scheduled for deletion refuses reads of its data, not of
	// its metadata.
	if err := e.n.Engine.DeleteSecret(e.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.n.Engine.ReadVersion(e.ctx, in)
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionDeletion)
	in.Data = false
	if _, err := e.n.Engine.ReadVersion(e.ctx, in); err != nil {
		t.Errorf("metadata of a secret scheduled for deletion: %v", err)
	}
}

// TestReadVersionRights: data takes the right to access secrets, metadata
// (also that of a version whose data cannot be read) the right to read
// them, as AccessVersion and GetVersion do.
func TestReadVersionRights(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Path: "/app", Name: "cfg"})
	for _, d := range []string{`{"v":1}`, `{"v":2}`} {
		if _, _, err := e.write(t, s.ID, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.n.Engine.DisableVersion(e.ctx, s.ID, coffer.RevisionN(1)); err != nil {
		t.Fatal(err)
	}
	access := e.as(t, coffer.SecretManagerSecretAccess)
	read := e.as(t, coffer.SecretManagerReadOnly)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		rev  uint32
		data bool
		code string
	}{
		{"access, data", access, 2, true, ""},
		{"access, metadata", access, 2, false, coffer.EFORBIDDEN},
		{"access, data of a disabled version", access, 1, true, coffer.EFORBIDDEN},
		{"read, data", read, 2, true, coffer.EFORBIDDEN},
		{"read, metadata", read, 2, false, ""},
		{"read, metadata of a disabled version", read, 1, false, ""},
	} {
		_, err := e.n.Engine.ReadVersion(tc.ctx, coffer.VersionRead{ProjectID: s.ProjectID, Path: "/app", Name: "cfg", Revision: tc.rev, Data: tc.data})
		if got := coffer.ErrorCode(err); got != tc.code {
			t.Errorf("%s: %v, want code %q", tc.name, err, tc.code)
		}
	}
	// A secret that does not exist is not found, whatever the right.
	for _, ctx := range []context.Context{access, read} {
		_, err := e.n.Engine.ReadVersion(ctx, coffer.VersionRead{ProjectID: s.ProjectID, Path: "/app", Name: "none", Data: true})
		wantCode(t, err, coffer.ENOTFOUND, "")
	}
}
