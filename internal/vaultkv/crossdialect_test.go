package vaultkv_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	vault "github.com/hashicorp/vault/api"
)

// These tests look at the same secrets through the Vault and the Scaleway
// dialects: a Vault path "a/b/c" is the Scaleway secret "c" in "/a/b".

func TestVaultWriteScalewayRead(t *testing.T) {
	e := newEnv(t)
	// The exact bytes of the data object are stored: key order, spacing
	// and number spelling survive.
	data := `{"b" : 2.50,"a":"x\u00e9",  "t": true, "n": null}`
	e.ok(200, "PUT", "/v1/secret/data/app/cfg", `{"options":{"cas":0}, "data": `+data+`}`)
	if got := e.scwAccess("app/cfg", "latest"); string(got) != data {
		t.Errorf("Scaleway reads %q, want %q", got, data)
	}
	if s := e.scwSecretAt("app/cfg"); s.Type != "key_value" || s.Path != "/app" || s.Name != "cfg" {
		t.Errorf("secret through Scaleway: %+v", s)
	}

	// Nested data cannot be key_value, which the Scaleway service keeps
	// flat: the secret is opaque.
	nested := `{"db":{"hosts":["a","b"]}}`
	e.ok(200, "POST", "/v1/secret/data/app/nested", `{"data":`+nested+`}`)
	if got := e.scwAccess("app/nested", "1"); string(got) != nested {
		t.Errorf("Scaleway reads %q, want %q", got, nested)
	}
	if s := e.scwSecretAt("app/nested"); s.Type != "opaque" {
		t.Errorf("nested secret type %q, want opaque", s.Type)
	}
	// A key_value secret refuses nested data, as Scaleway does.
	r := e.do("PUT", "/v1/secret/data/app/cfg", `{"data":{"o":{"x":1}}}`)
	e.wantErrorContaining(r, 400, "o: Invalid type. Expected: string, given: object")

	// The client's writes read back the same way.
	if _, err := e.vault.KVv2("secret").Put(context.Background(), "client/written", map[string]any{"k": "v", "n": 1}); err != nil {
		t.Fatal(err)
	}
	if got := e.scwAccess("client/written", "latest"); compactJSON(t, got) != `{"k":"v","n":1}` {
		t.Errorf("Scaleway reads %s", got)
	}
}

func TestScalewayWriteVaultRead(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kv := e.vault.KVv2("secret")
	id := e.scwCreate("from/scaleway", "key_value", []byte(`{"user":"u","port":"5432"}`))
	got, err := kv.Get(ctx, "from/scaleway")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"user": "u", "port": "5432"}, got.Data); diff != "" {
		t.Errorf("Vault reads (-want +got):\n%s", diff)
	}
	if keys, err := e.vault.Logical().List("secret/metadata/from"); err != nil || !cmp.Equal(keys.Data["keys"], []any{"scaleway"}) {
		t.Errorf("list: %v, %v", keys, err)
	}

	// Disabled through Scaleway: deleted for Vault, since then.
	e.clock.Advance(time.Minute)
	disabledAt := e.clock.Now().UTC().Truncate(time.Microsecond)
	e.scw(200, "POST", "/secrets/"+id+"/versions/1/disable", "{}")
	got, err = kv.Get(ctx, "from/scaleway")
	if err != nil || got.Data != nil || !got.VersionMetadata.DeletionTime.Equal(disabledAt) {
		t.Fatalf("Vault read of a disabled version: %+v, %v", got, err)
	}
	// Undeleted through Vault: enabled for Scaleway.
	if err := kv.Undelete(ctx, "from/scaleway", []int{1}); err != nil {
		t.Fatal(err)
	}
	if st := e.scwVersionStatus(id, "1"); st != "enabled" {
		t.Errorf("status after Vault undelete: %s", st)
	}

	// Soft-deleted through Vault: disabled for Scaleway.
	if err := kv.Delete(ctx, "from/scaleway"); err != nil {
		t.Fatal(err)
	}
	if st := e.scwVersionStatus(id, "1"); st != "disabled" {
		t.Errorf("status after Vault delete: %s", st)
	}

	// Scheduled for deletion through Scaleway: deleted for Vault, and
	// undelete restores it.
	if _, err := kv.Put(ctx, "from/scaleway", map[string]any{"user": "v"}); err != nil {
		t.Fatal(err)
	}
	e.scw(204, "DELETE", "/secrets/"+id+"/versions/2", "")
	if got, err := kv.Get(ctx, "from/scaleway"); err != nil || got.Data != nil || got.VersionMetadata.DeletionTime.IsZero() {
		t.Fatalf("Vault read of a version scheduled for deletion: %+v, %v", got, err)
	}
	if err := kv.Undelete(ctx, "from/scaleway", []int{2}); err != nil {
		t.Fatal(err)
	}
	if st := e.scwVersionStatus(id, "2"); st != "enabled" {
		t.Errorf("status after Vault undelete of a scheduled version: %s", st)
	}

	// Destroyed through Vault: deleted for Scaleway.
	if err := kv.Destroy(ctx, "from/scaleway", []int{1}); err != nil {
		t.Fatal(err)
	}
	if st := e.scwVersionStatus(id, "1"); st != "deleted" {
		t.Errorf("status after Vault destroy: %s", st)
	}

	// A secret scheduled for deletion through Scaleway is out of Vault's
	// listings, and refuses reads and writes until it is restored.
	e.scw(204, "DELETE", "/secrets/"+id, "")
	r := e.do("GET", "/v1/secret/data/from/scaleway", "")
	e.wantErrorContaining(r, 400, "scheduled for deletion")
	r = e.do("PUT", "/v1/secret/data/from/scaleway", `{"data":{"a":"b"}}`)
	e.wantErrorContaining(r, 400, "scheduled for deletion")
	e.wantErrors(e.do("GET", "/v1/secret/metadata/from?list=true", ""), 404)
}

func TestNonJSONValueThroughVault(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		path string
		data []byte
	}{
		{"bin", []byte{0xff, 0x00, 'x'}},
		{"text", []byte("hello")},
		{"string", []byte(`"a JSON string"`)},
		{"array", []byte(`[1,2]`)},
	} {
		e.scwCreate(tc.path, "opaque", tc.data)
		r := e.do("GET", "/v1/secret/data/"+tc.path, "")
		e.wantErrorContaining(r, 400, "does not hold a JSON object, which is all the KV v2 API can return")
		e.wantErrorContaining(e.do("GET", "/v1/secret/subkeys/"+tc.path, ""), 400, "does not hold a JSON object")
		r = e.do("PATCH", "/v1/secret/data/"+tc.path, `{"data":{"a":"b"}}`, "Content-Type", "application/merge-patch+json")
		e.wantErrorContaining(r, 400, "is not a JSON object: it cannot be patched")
		_, err := e.vault.KVv2("secret").Get(ctx, tc.path)
		var re *vault.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 400 {
			t.Errorf("client Get of %s: %v", tc.path, err)
		}
		// Its metadata reads fine, and the value is untouched.
		e.ok(200, "GET", "/v1/secret/metadata/"+tc.path, "")
		if got := e.scwAccess(tc.path, "latest"); string(got) != string(tc.data) {
			t.Errorf("%s: Scaleway reads %q after Vault reads", tc.path, got)
		}
	}
}

// TestOKMSMount serves the engine as OVHcloud OKMS's Vault-compatible API
// does, under /api/{okmsId}/v1 where okmsId names the project: the same
// secrets, no sys/ endpoints, slashes of a path sent as %2F, and PATCH as
// application/json.
func TestOKMSMount(t *testing.T) {
	e := newEnv(t)
	srv := struct{ URL string }{e.n.URL}

	cfg := vault.DefaultConfig()
	cfg.Address = srv.URL + "/api/" + e.n.Creds.ProjectID
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(e.n.Creds.SecretKey)
	ctx := context.Background()
	if _, err := c.KVv2("secret").Put(ctx, "okms/app", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.vault.KVv2("secret").Get(ctx, "okms/app"); err != nil || got.Data["k"] != "v" {
		t.Fatalf("the OKMS write through /v1: %+v, %v", got, err)
	}

	do := func(method, path, body string, header ...string) response {
		req, _ := http.NewRequest(method, srv.URL+"/api/"+e.n.Creds.ProjectID+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.n.Creds.SecretKey)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&b)
		return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}
	if r := do("PATCH", "/v1/secret/data/okms%2Fapp", `{"data":{"k2":"v2"}}`, "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("PATCH with application/json and an encoded path: %d %s", r.Status, r.Body)
	}
	if r := do("GET", "/v1/secret/data/okms%2Fapp", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"k2":"v2"`) {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	if r := do("POST", "/v1/secret/config", `{"max_versions":7}`); r.Status != 204 {
		t.Fatalf("config write: %d %s", r.Status, r.Body)
	}
	p, err := e.n.Engine.GetProject(e.ctx, e.n.Creds.ProjectID)
	if err != nil || p.Settings.MaxVersions != 7 {
		t.Fatalf("project settings after the OKMS config write: %+v, %v", p, err)
	}
	if r := do("GET", "/v1/sys/health", ""); r.Status != 404 {
		t.Errorf("sys/ under the OKMS prefix: %d %s", r.Status, r.Body)
	}
	// A project of no one's: not found.
	req, _ := http.NewRequest("GET", srv.URL+"/api/"+uuid.NewString()+"/v1/secret/config", nil)
	req.Header.Set("X-Vault-Token", e.n.Creds.SecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("config of an unknown okmsId: %d", resp.StatusCode)
	}
}

// TestNonJSONReadOnceThroughVault: a Vault read of an opaque value that
// expires once accessed is refused before the policy fires, so that the
// value is still there, for the Scaleway API to hand out, once.
func TestNonJSONReadOnceThroughVault(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for action, gone := range map[string]string{"disable": "disabled", "delete": "deleted"} {
		p := "once/" + action
		data := []byte("opaque, read once")
		id := e.scwCreateReadOnce(p, "opaque", action, data)
		for _, path := range []string{"/v1/secret/data/" + p, "/v1/secret/data/" + p + "?version=1", "/v1/secret/subkeys/" + p} {
			e.wantErrorContaining(e.do("GET", path, ""), 400,
				`version 1 of the secret at "`+p+`" does not hold a JSON object, which is all the KV v2 API can return`)
		}
		_, err := e.vault.KVv2("secret").Get(ctx, p)
		var re *vault.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 400 {
			t.Errorf("%s: client Get: %v, want a 400", p, err)
		}
		if st := e.scwVersionStatus(id, "1"); st != "enabled" {
			t.Fatalf("%s: version %s after refused Vault reads, want enabled", p, st)
		}
		// A HEAD says it is readable, and fires nothing either.
		if r := e.do("HEAD", "/v1/secret/data/"+p, ""); r.Status != 200 {
			t.Errorf("%s: HEAD %d, want 200", p, r.Status)
		}
		if got := e.scwAccess(p, "1"); string(got) != string(data) {
			t.Errorf("%s: Scaleway reads %q, want %q", p, got, data)
		}
		if st := e.scwVersionStatus(id, "1"); st != gone {
			t.Errorf("%s: version %s after the Scaleway read, want %s", p, st, gone)
		}
	}
}

// TestReadOnceThroughVault: a JSON value that expires once accessed is
// handed out by one Vault read; the next reads answer its metadata alone. A
// HEAD before does not consume it.
func TestReadOnceThroughVault(t *testing.T) {
	e := newEnv(t)
	for action, destroyed := range map[string]bool{"disable": false, "delete": true} {
		p := "once-json/" + action
		id := e.scwCreateReadOnce(p, "key_value", action, []byte(`{"k":"v"}`))
		for range 2 {
			if r := e.do("HEAD", "/v1/secret/data/"+p, ""); r.Status != 200 {
				t.Fatalf("%s: HEAD %d, want 200", p, r.Status)
			}
		}
		var got struct {
			Data     map[string]string `json:"data"`
			Metadata struct {
				DeletionTime string `json:"deletion_time"`
				Destroyed    bool   `json:"destroyed"`
			} `json:"metadata"`
		}
		dataOf(t, e.ok(200, "GET", "/v1/secret/data/"+p, ""), &got)
		// Disabled: deleted since the read; destroyed: no deletion time.
		if got.Data["k"] != "v" || (got.Metadata.DeletionTime == "") != destroyed || got.Metadata.Destroyed != destroyed {
			t.Errorf("%s: first read %+v", p, got)
		}
		for _, path := range []string{"/v1/secret/data/" + p, "/v1/secret/subkeys/" + p} {
			got.Data = nil
			r := e.do("GET", path, "")
			if r.Status != 404 {
				t.Fatalf("%s: read after the first: %d %s", path, r.Status, r.Body)
			}
			dataOf(t, r.Body, &got)
			if got.Data != nil || (got.Metadata.DeletionTime == "") != destroyed || got.Metadata.Destroyed != destroyed {
				t.Errorf("%s: read after the first %s", path, r.Body)
			}
		}
		if r := e.do("HEAD", "/v1/secret/data/"+p, ""); r.Status != 404 {
			t.Errorf("%s: HEAD after the read %d, want 404", p, r.Status)
		}
		want := map[bool]string{false: "disabled", true: "deleted"}[destroyed]
		if st := e.scwVersionStatus(id, "1"); st != want {
			t.Errorf("%s: version %s, want %s", p, st, want)
		}
	}
}
