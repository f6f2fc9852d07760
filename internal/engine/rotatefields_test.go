package engine_test

import (
	"encoding/json"
	"testing"

	"github.com/coffer-dev/coffer"
)

func TestRotateFields(t *testing.T) {
	e := newEnv(t)
	eng := e.n.Engine
	s := e.secret(t, coffer.SecretCreate{Path: "/app", Name: "db", Type: coffer.TypeKeyValue})
	if _, _, err := e.write(t, s.ID, `{"user":"app","password":"old","token":"t0"}`, nil); err != nil {
		t.Fatal(err)
	}
	fields := func(rev coffer.Revision) map[string]string {
		t.Helper()
		data, err := e.read(t, s.ID, rev)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	_, v, err := eng.RotateFields(e.ctx, s.ID, map[string]int{"password": 20, "token": 5})
	if err != nil {
		t.Fatal(err)
	}
	if v.Revision != 2 || !v.Latest {
		t.Fatalf("version %d latest %v, want 2, latest", v.Revision, v.Latest)
	}
	got := fields(coffer.Latest)
	if got["user"] != "app" || len(got["password"]) != 20 || len(got["token"]) != 5 || got["password"] == "old" {
		t.Fatalf("rotated value %v", got)
	}

	// Refusals change nothing.
	for _, tc := range []struct {
		name    string
		lengths map[string]int
		code    string
	}{
		{"too short", map[string]int{"password": 4}, coffer.EINVALID},
		{"too long", map[string]int{"password": 33}, coffer.EINVALID},
		{"no fields, no targets", nil, coffer.EINVALID},
		{"absent field", map[string]int{"passwd": 12}, coffer.EPRECONDITION},
	} {
		if _, _, err := eng.RotateFields(e.ctx, s.ID, tc.lengths); coffer.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	opaque := e.secret(t, coffer.SecretCreate{Path: "/app", Name: "blob", Type: coffer.TypeOpaque})
	if _, _, err := e.write(t, opaque.ID, `{"password":"x"}`, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = eng.RotateFields(e.ctx, opaque.ID, map[string]int{"password": 12})
	wantCode(t, err, coffer.EPRECONDITION, "not_key_value")
	if _, err := eng.DisableSecret(e.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = eng.RotateFields(e.ctx, s.ID, map[string]int{"password": 12})
	wantCode(t, err, coffer.EPRECONDITION, "")
	if _, err := eng.EnableSecret(e.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if after := fields(coffer.Latest); after["password"] != got["password"] || after["token"] != got["token"] {
		t.Fatalf("a refused rotation changed the value")
	}

	// Without fields, the rotation targets, at the default length.
	c, err := eng.CreateChainSecret(e.ctx, coffer.ChainSecretCreate{Name: "chain", Value: coffer.Payload(`{"k":"v","pw":"p"}`), RotationTargets: []string{"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := eng.RotateFields(e.ctx, c.ID, nil); err != nil {
		t.Fatal(err)
	}
	_, _, data, err := eng.AccessVersion(e.ctx, c.ID, coffer.Latest)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil || m["k"] != "v" || len(m["pw"]) != 12 {
		t.Fatalf("rotated targets: %v %v", m, err)
	}
}
