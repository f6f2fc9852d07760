package engine_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
)

// byPath writes data at a path of the admin's project, creating the secret
// when missing, as Vault and OKMS write.
func (e *env) byPath(t *testing.T, path, name, data string, cas *uint32) (*coffer.Secret, *coffer.Version, error) {
	t.Helper()
	return e.n.Engine.CreateVersion(e.ctx, "", coffer.VersionCreate{
		Data: coffer.Payload(data), CAS: cas,
		CreateSecret: &coffer.SecretCreate{ProjectID: e.n.Creds.ProjectID, Path: path, Name: name},
	})
}

func TestWriteByPathInfersTheType(t *testing.T) {
	e := newEnv(t)
	for i, tc := range []struct {
		data string
		want coffer.SecretType
	}{
		{`{"a":"b","n":1,"t":true,"z":null}`, coffer.TypeKeyValue},
		{`{}`, coffer.TypeKeyValue},
		{`{"a":{"b":"c"}}`, coffer.TypeOpaque},
		{`{"a":[1]}`, coffer.TypeOpaque},
		{`[1,2]`, coffer.TypeOpaque},
		{`plain text`, coffer.TypeOpaque},
	} {
		s, _, err := e.byPath(t, "/infer", fmt.Sprintf("s%d", i), tc.data, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.data, err)
		}
		if s.Type != tc.want {
			t.Errorf("%s: type %s, want %s", tc.data, s.Type, tc.want)
		}
	}
	// A type given wins.
	s, _, err := e.n.Engine.CreateVersion(e.ctx, "", coffer.VersionCreate{
		Data:         coffer.Payload(`{"a":"b"}`),
		CreateSecret: &coffer.SecretCreate{ProjectID: e.n.Creds.ProjectID, Name: "given", Type: coffer.TypeOpaque},
	})
	if err != nil || s.Type != coffer.TypeOpaque {
		t.Fatalf("given type: %v, %v", s, err)
	}
	// A key_value secret keeps refusing nested data.
	_, _, err = e.byPath(t, "/infer", "s0", `{"a":{"b":1}}`, nil)
	wantCode(t, err, coffer.EINVALID, "")
}

func TestPatchVersion(t *testing.T) {
	e := newEnv(t)
	s, _, err := e.byPath(t, "/", "p", `{"keep":"1","drop":"2","n":1.50}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	patch := func(p string, cas *uint32) (*coffer.Secret, *coffer.Version, error) {
		return e.n.Engine.PatchVersion(e.ctx, s.ID, coffer.VersionPatch{Patch: coffer.Payload(p), CAS: cas})
	}
	_, v, err := patch(`{"drop":null,"add":"<&>"}`, nil)
	if err != nil || v.Revision != 2 {
		t.Fatalf("patch: %v, %v", v, err)
	}
	// Numbers keep their spelling; HTML characters are not escaped.
	if got, _ := e.read(t, s.ID, coffer.Latest); got != `{"add":"<&>","keep":"1","n":1.50}` {
		t.Errorf("patched data %s", got)
	}
	_, _, err = patch(`{"x":"y"}`, ptr(uint32(1)))
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionCASMismatch)
	if _, v, err := patch(`{"x":"y"}`, ptr(uint32(2))); err != nil || v.Revision != 3 {
		t.Fatalf("patch with cas: %v, %v", v, err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a":1} x`, ``, `null`} {
		_, _, err = patch(bad, nil)
		wantCode(t, err, coffer.EINVALID, "")
	}
	// The secret is key_value: a nested value is refused.
	_, _, err = patch(`{"o":{"p":1}}`, nil)
	wantCode(t, err, coffer.EINVALID, "")

	// A current version that cannot be read is returned with the error.
	if _, err := e.n.Engine.DisableVersion(e.ctx, s.ID, coffer.RevisionN(3)); err != nil {
		t.Fatal(err)
	}
	_, v, err = patch(`{"x":"z"}`, nil)
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionDisabled)
	if v == nil || v.Revision != 3 || v.State != coffer.VersionDisabled {
		t.Fatalf("version returned with the error: %+v", v)
	}
	if _, err := e.n.Engine.DestroyVersion(e.ctx, s.ID, coffer.RevisionN(3)); err != nil {
		t.Fatal(err)
	}
	_, v, err = patch(`{"x":"z"}`, nil)
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionVersionDestroyed)
	if v == nil || v.Revision != 3 {
		t.Fatalf("version returned with the error: %+v", v)
	}

	// Data that is not a JSON object cannot be patched.
	o := e.secret(t, coffer.SecretCreate{Name: "opaque"})
	if _, _, err := e.write(t, o.ID, "not json", nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.n.Engine.PatchVersion(e.ctx, o.ID, coffer.VersionPatch{Patch: coffer.Payload(`{"a":"b"}`)})
	wantCode(t, err, coffer.EPRECONDITION, coffer.PreconditionNotJSONObject)
	// Nor can a secret without versions.
	empty := e.secret(t, coffer.SecretCreate{Name: "empty"})
	_, _, err = e.n.Engine.PatchVersion(e.ctx, empty.ID, coffer.VersionPatch{Patch: coffer.Payload(`{}`)})
	wantCode(t, err, coffer.ENOTFOUND, "")
}

// TestConcurrentPatchesLoseNothing runs patches of different keys at once:
// each reads and writes in one transaction, so every key lands.
func TestConcurrentPatchesLoseNothing(t *testing.T) {
	e := newEnv(t)
	s, _, err := e.byPath(t, "/", "counter", `{}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := fmt.Sprintf(`{"k%d":"v"}`, i)
			for {
				_, _, err := e.n.Engine.PatchVersion(e.ctx, s.ID, coffer.VersionPatch{Patch: coffer.Payload(p)})
				if coffer.ErrorCode(err) == coffer.ECONFLICT {
					continue // lost a race between nodes' transactions: retry
				}
				if err != nil {
					t.Error(err)
				}
				return
			}
		})
	}
	wg.Wait()
	got, err := e.read(t, s.ID, coffer.Latest)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !strings.Contains(got, fmt.Sprintf(`"k%d":"v"`, i)) {
			t.Errorf("key k%d lost: %s", i, got)
		}
	}
}

func TestPutSecret(t *testing.T) {
	e := newEnv(t)
	create := coffer.SecretCreate{ProjectID: e.n.Creds.ProjectID, Path: "/meta", Name: "m"}
	s, created, err := e.n.Engine.PutSecret(e.ctx, create, coffer.SecretUpdate{MaxVersions: ptr(3), CustomMetadata: &map[string]string{"a": "1"}})
	if err != nil || !created || s.MaxVersions != 3 || s.LastRevision != 0 || s.Type != coffer.TypeOpaque {
		t.Fatalf("create: %+v, %v, %v", s, created, err)
	}
	s2, created, err := e.n.Engine.PutSecret(e.ctx, create, coffer.SecretUpdate{
		CASRequired: ptr(true), CustomMetadataMerge: map[string]*string{"a": nil, "b": ptr("2")},
	})
	if err != nil || created || s2.ID != s.ID || !s2.CASRequired || s2.MaxVersions != 3 {
		t.Fatalf("update: %+v, %v, %v", s2, created, err)
	}
	if diff := cmp.Diff(map[string]string{"b": "2"}, s2.CustomMetadata); diff != "" {
		t.Errorf("merged custom metadata (-want +got):\n%s", diff)
	}
	_, _, err = e.n.Engine.PutSecret(e.ctx, create, coffer.SecretUpdate{Name: ptr("other")})
	wantCode(t, err, coffer.EINVALID, "")
	_, _, err = e.n.Engine.PutSecret(e.ctx, create, coffer.SecretUpdate{CustomMetadata: &map[string]string{"k": ""}})
	wantCode(t, err, coffer.EINVALID, "")
	bad := create
	bad.Name = ".."
	_, _, err = e.n.Engine.PutSecret(e.ctx, bad, coffer.SecretUpdate{})
	wantCode(t, err, coffer.EINVALID, "")

	// Concurrent creations of one path make one secret.
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		wg.Go(func() {
			s, _, err := e.n.Engine.PutSecret(e.ctx, coffer.SecretCreate{ProjectID: e.n.Creds.ProjectID, Name: "race"}, coffer.SecretUpdate{MaxVersions: ptr(i)})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = s.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent creations made several secrets: %v", ids)
		}
	}
}

func TestChangeProjectSettings(t *testing.T) {
	e := newEnv(t)
	id := e.n.Creds.ProjectID
	p, err := e.n.Engine.ChangeProjectSettings(e.ctx, id, coffer.ProjectSettingsUpdate{CASRequired: ptr(true)})
	if err != nil || !p.Settings.CASRequired || p.Settings.MaxVersions != coffer.DefaultMaxVersions {
		t.Fatalf("change: %+v, %v", p, err)
	}
	p, err = e.n.Engine.ChangeProjectSettings(e.ctx, id, coffer.ProjectSettingsUpdate{VersionTTL: ptr(-time.Second), MaxVersions: ptr(4)})
	if err != nil || !p.Settings.CASRequired || p.Settings.MaxVersions != 4 || p.Settings.VersionTTL != -time.Second {
		t.Fatalf("change: %+v, %v", p, err)
	}
	_, err = e.n.Engine.ChangeProjectSettings(e.ctx, id, coffer.ProjectSettingsUpdate{MaxVersions: ptr(-1)})
	wantCode(t, err, coffer.EINVALID, "")
	_, err = e.n.Engine.ChangeProjectSettings(e.ctx, "not-a-uuid", coffer.ProjectSettingsUpdate{})
	wantCode(t, err, coffer.EINVALID, "")
}

// TestVersionTTLRules checks Vault's delete_version_after rules: the
// shorter of the secret's and the project's, the one set when only one is,
// none when the project's is negative.
func TestVersionTTLRules(t *testing.T) {
	e := newEnv(t)
	id := e.n.Creds.ProjectID
	for i, tc := range []struct {
		project, secret, want time.Duration
	}{
		{0, 0, 0},
		{time.Hour, 0, time.Hour},
		{0, time.Minute, time.Minute},
		{time.Hour, time.Minute, time.Minute},
		{time.Minute, time.Hour, time.Minute},
		{-time.Second, time.Minute, 0},
	} {
		if _, err := e.n.Engine.ChangeProjectSettings(e.ctx, id, coffer.ProjectSettingsUpdate{VersionTTL: ptr(tc.project)}); err != nil {
			t.Fatal(err)
		}
		s := e.secret(t, coffer.SecretCreate{Name: fmt.Sprintf("ttl%d", i), VersionTTL: tc.secret})
		_, v, err := e.write(t, s.ID, "x", nil)
		if err != nil {
			t.Fatal(err)
		}
		var got time.Duration
		if v.Ephemeral != nil && v.Ephemeral.ExpiresAt != nil {
			got = v.Ephemeral.ExpiresAt.Sub(v.CreatedAt)
		}
		if got != tc.want {
			t.Errorf("project %v, secret %v: ttl %v, want %v", tc.project, tc.secret, got, tc.want)
		}
	}
}

// TestEnableRearmsAnExpiredVersion checks that enabling a version that its
// TTL disabled makes it readable again, with a new expiry from now.
func TestEnableRearmsAnExpiredVersion(t *testing.T) {
	e := newEnv(t)
	s := e.secret(t, coffer.SecretCreate{Name: "rearm", VersionTTL: time.Hour})
	if _, _, err := e.write(t, s.ID, "x", nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	// Expired but not yet disabled by the job: enabling re-arms it.
	v, err := e.n.Engine.EnableVersion(e.ctx, s.ID, coffer.RevisionN(1))
	if err != nil || v.State != coffer.VersionEnabled || !v.Ephemeral.ExpiresAt.Equal(e.n.Engine.Now().Add(time.Hour)) {
		t.Fatalf("enable of an expired enabled version: %+v, %v", v, err)
	}
	if got, err := e.read(t, s.ID, coffer.Latest); err != nil || got != "x" {
		t.Fatalf("read after enable: %q, %v", got, err)
	}
	e.clock.Advance(2 * time.Hour)
	if _, err := e.read(t, s.ID, coffer.Latest); err == nil {
		t.Fatal("an expired version must not be readable")
	}
	// Disabled by its expiry: enabling re-arms it too.
	v, err = e.n.Engine.EnableVersion(e.ctx, s.ID, coffer.RevisionN(1))
	if err != nil || v.State != coffer.VersionEnabled || !v.Ephemeral.ExpiresAt.After(e.n.Engine.Now()) {
		t.Fatalf("enable of a version its expiry disabled: %+v, %v", v, err)
	}
	if got, err := e.read(t, s.ID, coffer.Latest); err != nil || got != "x" {
		t.Fatalf("read after enable: %q, %v", got, err)
	}
}

func TestCustomMetadataRules(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		m    map[string]string
		want string
	}{
		{map[string]string{"k": ""}, `custom_metadata validation failed: length of value for key "k" is 0 but must be 0 < len(value) <= 512`},
		{map[string]string{"": "v"}, `custom_metadata validation failed: length of key "" is 0 but must be 0 < len(key) <= 128`},
		{map[string]string{strings.Repeat("k", 129): "v"}, "length of key"},
		{map[string]string{"k": strings.Repeat("v", 513)}, "length of value"},
		{map[string]string{"k\t": "v"}, `custom_metadata validation failed: key "k\t" contains unprintable characters`},
		{map[string]string{"k": "\x00"}, `custom_metadata validation failed: value for key "k" contains unprintable characters`},
		{map[string]string{"k": "\xff"}, "unprintable"},
	} {
		_, err := e.n.Engine.CreateSecret(e.ctx, coffer.SecretCreate{ProjectID: e.n.Creds.ProjectID, Name: "cm", CustomMetadata: tc.m})
		wantCode(t, err, coffer.EINVALID, "")
		if !strings.Contains(coffer.ErrorMessage(err), tc.want) {
			t.Errorf("%q: %q, want %q", tc.m, coffer.ErrorMessage(err), tc.want)
		}
	}
	ok := map[string]string{"owner": "team ops", "émoji": "✓"}
	if _, err := e.n.Engine.CreateSecret(e.ctx, coffer.SecretCreate{ProjectID: e.n.Creds.ProjectID, Name: "cm", CustomMetadata: ok}); err != nil {
		t.Fatal(err)
	}
}
