package vaultkv_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests drive a real node through every KVv2 helper of the official
// Vault and OpenBao Go clients, and through their Logical() calls for what
// the helpers do not cover, exactly as applications, External Secrets
// Operator and Terraform do.

// forEachClient runs fn, on a fresh node, once per client.
func forEachClient(t *testing.T, fn func(t *testing.T, e *env, kv kvClient)) {
	for _, name := range []string{"vault", "openbao"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			for _, c := range e.clients() {
				if c.name == name {
					fn(t, e, c.kv)
				}
			}
		})
	}
}

// num is how the clients decode JSON numbers.
func num(s string) json.Number { return json.Number(s) }

func TestReadWriteVersions(t *testing.T) {
	forEachClient(t, func(t *testing.T, e *env, kv kvClient) {
		ctx := context.Background()
		if _, err := kv.Get(ctx, "app/db"); !kv.NotFound(err) {
			t.Fatalf("Get of a missing key: %v, want ErrSecretNotFound", err)
		}
		start := e.clock.Now()
		w, err := kv.Put(ctx, "app/db", map[string]any{"user": "admin", "port": 5432}, -1)
		if err != nil {
			t.Fatal(err)
		}
		want := &kvVersion{Version: 1, Created: start.UTC().Truncate(time.Microsecond)}
		if diff := cmp.Diff(want, w.Meta); diff != "" {
			t.Errorf("Put metadata (-want +got):\n%s", diff)
		}
		e.clock.Advance(time.Second)
		got, err := kv.Get(ctx, "app/db")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]any{"user": "admin", "port": num("5432")}, got.Data); diff != "" {
			t.Errorf("Get data (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, got.Meta); diff != "" {
			t.Errorf("Get metadata (-want +got):\n%s", diff)
		}

		// Check-and-set: the current version, 0 for a new key.
		if w, err := kv.Put(ctx, "app/db", map[string]any{"user": "admin", "port": 5433}, 1); err != nil || w.Meta.Version != 2 {
			t.Fatalf("Put with cas=1: %+v, %v", w, err)
		}
		_, err = kv.Put(ctx, "app/db", map[string]any{"user": "lost"}, 1)
		if status, msgs := kv.Status(err); status != 400 || !cmp.Equal(msgs, []string{"check-and-set parameter did not match the current version"}) {
			t.Fatalf("Put with a stale cas: %v", err)
		}
		if _, err := kv.Put(ctx, "app/new", map[string]any{"k": "v"}, 0); err != nil {
			t.Fatalf("Put with cas=0 on a new key: %v", err)
		}
		if _, err := kv.Put(ctx, "app/new", map[string]any{"k": "v"}, 0); err == nil {
			t.Fatal("Put with cas=0 on an existing key must fail")
		}

		// Older versions stay readable.
		v1, err := kv.GetVersion(ctx, "app/db", 1)
		if err != nil || v1.Data["port"] != num("5432") || v1.Meta.Version != 1 {
			t.Fatalf("GetVersion 1: %+v, %v", v1, err)
		}
		if _, err := kv.GetVersion(ctx, "app/db", 9); !kv.NotFound(err) {
			t.Fatalf("GetVersion of a version never written: %v", err)
		}

		// Patch, with an HTTP merge patch and by read-then-write.
		p, err := kv.Patch(ctx, "app/db", map[string]any{"port": nil, "host": "db.internal"}, "", -1)
		if err != nil || p.Meta.Version != 3 {
			t.Fatalf("Patch: %+v, %v", p, err)
		}
		p, err = kv.Patch(ctx, "app/db", map[string]any{"tls": true}, "rw", -1)
		if err != nil || p.Meta.Version != 4 {
			t.Fatalf("Patch rw: %+v, %v", p, err)
		}
		got, _ = kv.Get(ctx, "app/db")
		if diff := cmp.Diff(map[string]any{"user": "admin", "host": "db.internal", "tls": true}, got.Data); diff != "" {
			t.Errorf("data after patches (-want +got):\n%s", diff)
		}
		_, err = kv.Patch(ctx, "app/db", map[string]any{"x": "y"}, "patch", 3)
		if status, msgs := kv.Status(err); status != 400 || !cmp.Equal(msgs, []string{"check-and-set parameter did not match the current version"}) {
			t.Fatalf("Patch with a stale cas: %v", err)
		}
		if p, err := kv.Patch(ctx, "app/db", map[string]any{"x": "y"}, "patch", 4); err != nil || p.Meta.Version != 5 {
			t.Fatalf("Patch with cas: %+v, %v", p, err)
		}
		if _, err := kv.Patch(ctx, "app/missing", map[string]any{"x": "y"}, "", -1); err == nil || !strings.Contains(err.Error(), "secret not found") {
			t.Fatalf("Patch of a missing key: %v", err)
		}

		// Nested data: the secret becomes opaque to the Scaleway API, and
		// patches merge objects recursively.
		if _, err := kv.Put(ctx, "app/nested", map[string]any{"a": map[string]any{"b": 1, "c": []any{1, 2}}}, -1); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Patch(ctx, "app/nested", map[string]any{"a": map[string]any{"b": nil, "d": "x"}}, "", -1); err != nil {
			t.Fatal(err)
		}
		got, _ = kv.Get(ctx, "app/nested")
		if diff := cmp.Diff(map[string]any{"a": map[string]any{"c": []any{num("1"), num("2")}, "d": "x"}}, got.Data); diff != "" {
			t.Errorf("nested patch (-want +got):\n%s", diff)
		}

		// Rollback writes an old version's data as the newest version.
		r, err := kv.Rollback(ctx, "app/db", 1)
		if err != nil || r.Meta.Version != 6 {
			t.Fatalf("Rollback: %+v, %v", r, err)
		}
		got, _ = kv.Get(ctx, "app/db")
		if diff := cmp.Diff(map[string]any{"user": "admin", "port": num("5432")}, got.Data); diff != "" {
			t.Errorf("after rollback (-want +got):\n%s", diff)
		}
	})
}

func TestDeleteUndeleteDestroy(t *testing.T) {
	forEachClient(t, func(t *testing.T, e *env, kv kvClient) {
		ctx := context.Background()
		for i := range 4 {
			if _, err := kv.Put(ctx, "k", map[string]any{"n": i + 1}, -1); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Advance(time.Minute)
		now := e.clock.Now().UTC().Truncate(time.Microsecond)

		// Delete soft-deletes the current version: a read shows its
		// metadata without data.
		if err := kv.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		got, err := kv.Get(ctx, "k")
		if err != nil || got.Data != nil || got.Meta.Version != 4 || !got.Meta.Deleted.Equal(now) {
			t.Fatalf("Get after Delete: %+v %+v, %v", got, got.Meta, err)
		}
		if err := kv.Delete(ctx, "k"); err != nil {
			t.Fatalf("Delete again: %v", err)
		}
		if err := kv.Delete(ctx, "missing"); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
		if err := kv.Undelete(ctx, "k", []int{4}); err != nil {
			t.Fatal(err)
		}
		if got, err := kv.Get(ctx, "k"); err != nil || got.Data["n"] != num("4") || !got.Meta.Deleted.IsZero() {
			t.Fatalf("Get after Undelete: %+v, %v", got, err)
		}

		// Older versions, and versions that do not exist, which are skipped.
		if err := kv.DeleteVersions(ctx, "k", []int{1, 2, 99}); err != nil {
			t.Fatal(err)
		}
		if v, err := kv.GetVersion(ctx, "k", 1); err != nil || v.Data != nil || v.Meta.Deleted.IsZero() {
			t.Fatalf("GetVersion 1 after DeleteVersions: %+v, %v", v, err)
		}
		if err := kv.Destroy(ctx, "k", []int{2, 3}); err != nil {
			t.Fatal(err)
		}
		if v, err := kv.GetVersion(ctx, "k", 3); err != nil || v.Data != nil || !v.Meta.Destroyed {
			t.Fatalf("GetVersion 3 after Destroy: %+v, %v", v, err)
		}
		if err := kv.Undelete(ctx, "k", []int{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		list, err := kv.GetVersionsAsList(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, v := range list {
			s := "live"
			switch {
			case v.Destroyed:
				s = "destroyed"
			case !v.Deleted.IsZero():
				s = "deleted"
			}
			states = append(states, s)
		}
		// Destroyed versions cannot be undeleted; version 2 was deleted,
		// then destroyed: it keeps its deletion time.
		if diff := cmp.Diff([]string{"live", "destroyed", "destroyed", "live"}, states); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		if list[1].Deleted.IsZero() || !list[2].Deleted.IsZero() {
			t.Errorf("deletion times of destroyed versions: %+v", list)
		}
		if _, err := kv.Rollback(ctx, "k", 3); err == nil {
			t.Error("Rollback to a destroyed version must fail")
		}
		for _, fn := range []func() error{
			func() error { return kv.DeleteVersions(ctx, "missing", []int{1}) },
			func() error { return kv.Undelete(ctx, "missing", []int{1}) },
			func() error { return kv.Destroy(ctx, "missing", []int{1}) },
		} {
			if err := fn(); err != nil {
				t.Errorf("version operation on a missing key: %v", err)
			}
		}

		// DeleteMetadata removes the key and all its versions.
		if err := kv.DeleteMetadata(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.GetMetadata(ctx, "k"); !kv.NotFound(err) {
			t.Fatalf("GetMetadata after DeleteMetadata: %v", err)
		}
		if _, err := kv.Get(ctx, "k"); !kv.NotFound(err) {
			t.Fatalf("Get after DeleteMetadata: %v", err)
		}
		if err := kv.DeleteMetadata(ctx, "k"); err != nil {
			t.Fatalf("DeleteMetadata of a missing key: %v", err)
		}
	})
}

func TestMetadata(t *testing.T) {
	forEachClient(t, func(t *testing.T, e *env, kv kvClient) {
		ctx := context.Background()
		created := e.clock.Now().UTC().Truncate(time.Microsecond)

		// PutMetadata creates a key without a version.
		if err := kv.PutMetadata(ctx, "team/key", false, map[string]any{"owner": "ops"}, 0, 0); err != nil {
			t.Fatal(err)
		}
		m, err := kv.GetMetadata(ctx, "team/key")
		if err != nil {
			t.Fatal(err)
		}
		want := &kvMetadata{Created: created, Updated: created, Custom: map[string]any{"owner": "ops"}, Versions: map[string]kvVersion{}}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("metadata of a new key (-want +got):\n%s", diff)
		}
		if _, err := kv.Get(ctx, "team/key"); !kv.NotFound(err) {
			t.Fatalf("Get of a key without versions: %v", err)
		}

		e.clock.Advance(time.Second)
		written := e.clock.Now().UTC().Truncate(time.Microsecond)
		w, err := kv.Put(ctx, "team/key", map[string]any{"a": "1"}, -1)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]any{"owner": "ops"}, w.Custom); diff != "" {
			t.Errorf("custom metadata in the write answer (-want +got):\n%s", diff)
		}
		if got, _ := kv.Get(ctx, "team/key"); !cmp.Equal(got.Custom, map[string]any{"owner": "ops"}) {
			t.Errorf("custom metadata in a read: %v", got.Custom)
		}

		// PatchMetadata changes the fields given; custom metadata key by key.
		if err := kv.PatchMetadata(ctx, "team/key", kvMetadataPatch{Custom: map[string]any{"env": "prod"}, MaxVersions: ptr(3)}); err != nil {
			t.Fatal(err)
		}
		if err := kv.PatchMetadata(ctx, "team/key", kvMetadataPatch{DeleteVersionAfter: ptr(90 * time.Minute), CASRequired: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		m, _ = kv.GetMetadata(ctx, "team/key")
		want = &kvMetadata{
			CASRequired: true, Created: created, Updated: written, CurrentVersion: 1, MaxVersions: 3,
			DeleteVersionAfter: 90 * time.Minute, Custom: map[string]any{"owner": "ops", "env": "prod"},
			Versions: map[string]kvVersion{"1": {Version: 1, Created: written}},
		}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("metadata after patches (-want +got):\n%s", diff)
		}
		// The key now requires check-and-set.
		_, err = kv.Put(ctx, "team/key", map[string]any{"a": "2"}, -1)
		if status, msgs := kv.Status(err); status != 400 || !cmp.Equal(msgs, []string{"check-and-set parameter required for this call"}) {
			t.Fatalf("Put without cas on a cas_required key: %v", err)
		}
		// An empty map removes all custom metadata.
		if err := kv.PatchMetadata(ctx, "team/key", kvMetadataPatch{Custom: map[string]any{}}); err != nil {
			t.Fatal(err)
		}
		if m, _ := kv.GetMetadata(ctx, "team/key"); m.Custom != nil {
			t.Errorf("custom metadata after removing all: %v", m.Custom)
		}
		if err := kv.PatchMetadata(ctx, "missing", kvMetadataPatch{MaxVersions: ptr(1)}); err == nil {
			t.Error("PatchMetadata of a missing key must fail")
		}

		// PutMetadata replaces every field.
		if err := kv.PutMetadata(ctx, "team/key", false, nil, 0, 0); err != nil {
			t.Fatal(err)
		}
		m, _ = kv.GetMetadata(ctx, "team/key")
		if m.CASRequired || m.MaxVersions != 0 || m.DeleteVersionAfter != 0 || m.Custom != nil {
			t.Errorf("metadata after PutMetadata of zero values: %+v", m)
		}

		// Vault's limits on custom metadata.
		err = kv.PutMetadata(ctx, "team/key", false, map[string]any{"k": strings.Repeat("v", 513)}, 0, 0)
		if status, msgs := kv.Status(err); status != 400 || len(msgs) != 1 || !strings.HasPrefix(msgs[0], "custom_metadata validation failed: ") {
			t.Errorf("custom metadata value too long: %v", err)
		}
		many := map[string]any{}
		for i := range 65 {
			many[strings.Repeat("k", i+1)] = "v"
		}
		if status, _ := kv.Status(kv.PutMetadata(ctx, "team/key", false, many, 0, 0)); status != 400 {
			t.Errorf("65 custom metadata keys: status %d", status)
		}
	})
}

func TestMaxVersions(t *testing.T) {
	forEachClient(t, func(t *testing.T, e *env, kv kvClient) {
		ctx := context.Background()
		if err := kv.PutMetadata(ctx, "pruned", false, nil, 0, 3); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := kv.Put(ctx, "pruned", map[string]any{"n": i + 1}, -1); err != nil {
				t.Fatal(err)
			}
		}
		m, err := kv.GetMetadata(ctx, "pruned")
		if err != nil {
			t.Fatal(err)
		}
		if m.CurrentVersion != 5 || m.OldestVersion != 3 || len(m.Versions) != 3 {
			t.Fatalf("after 5 writes with max_versions 3: current %d oldest %d versions %v", m.CurrentVersion, m.OldestVersion, m.Versions)
		}
		for _, v := range []string{"3", "4", "5"} {
			if _, ok := m.Versions[v]; !ok {
				t.Errorf("version %s missing from %v", v, m.Versions)
			}
		}
		if _, err := kv.GetVersion(ctx, "pruned", 1); !kv.NotFound(err) {
			t.Errorf("GetVersion of a pruned version: %v", err)
		}
	})
}

func TestDeleteVersionAfter(t *testing.T) {
	forEachClient(t, func(t *testing.T, e *env, kv kvClient) {
		ctx := context.Background()
		if _, _, err := kv.Write("secret/config", map[string]any{"delete_version_after": "1h"}); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := kv.Read("secret/config")
		if err != nil || cfg["delete_version_after"] != "1h0m0s" {
			t.Fatalf("config: %v, %v", cfg, err)
		}
		now := e.clock.Now().UTC().Truncate(time.Microsecond)
		w, err := kv.Put(ctx, "ttl", map[string]any{"a": "b"}, -1)
		if err != nil || !w.Meta.Deleted.Equal(now.Add(time.Hour)) {
			t.Fatalf("Put under delete_version_after: %+v, %v", w.Meta, err)
		}
		// Still readable before its deletion time, which it shows.
		if got, err := kv.Get(ctx, "ttl"); err != nil || got.Data == nil || !got.Meta.Deleted.Equal(now.Add(time.Hour)) {
			t.Fatalf("Get before the deletion time: %+v, %v", got, err)
		}
		e.clock.Advance(time.Hour + time.Second)
		got, err := kv.Get(ctx, "ttl")
		if err != nil || got.Data != nil || !got.Meta.Deleted.Equal(now.Add(time.Hour)) {
			t.Fatalf("Get after the deletion time: %+v %+v, %v", got, got.Meta, err)
		}
		// Undelete re-arms the deletion time from now.
		if err := kv.Undelete(ctx, "ttl", []int{1}); err != nil {
			t.Fatal(err)
		}
		later := e.clock.Now().UTC().Truncate(time.Microsecond)
		if got, err := kv.Get(ctx, "ttl"); err != nil || got.Data == nil || !got.Meta.Deleted.Equal(later.Add(time.Hour)) {
			t.Fatalf("Get after Undelete: %+v, %v", got, err)
		}
		// A key's own, shorter delete_version_after wins; a negative mount
		// value turns them all off.
		if err := kv.PatchMetadata(ctx, "ttl", kvMetadataPatch{DeleteVersionAfter: ptr(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if w, err := kv.Put(ctx, "ttl", map[string]any{"a": "c"}, -1); err != nil || !w.Meta.Deleted.Equal(later.Add(time.Minute)) {
			t.Fatalf("Put with a key-level delete_version_after: %+v, %v", w.Meta, err)
		}
		if _, _, err := kv.Write("secret/config", map[string]any{"delete_version_after": -1}); err != nil {
			t.Fatal(err)
		}
		if cfg, _, _ := kv.Read("secret/config"); cfg["delete_version_after"] != "-1s" {
			t.Fatalf("disabled delete_version_after reads %v", cfg["delete_version_after"])
		}
		if w, err := kv.Put(ctx, "ttl", map[string]any{"a": "d"}, -1); err != nil || !w.Meta.Deleted.IsZero() {
			t.Fatalf("Put with delete_version_after disabled: %+v, %v", w.Meta, err)
		}
	})
}

func TestConfig(t *testing.T) {
	forEachClient(t, func(t *testing.T, e *env, kv kvClient) {
		ctx := context.Background()
		cfg, _, err := kv.Read("secret/config")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"max_versions": num("10"), "cas_required": false, "delete_version_after": "0s"}
		if diff := cmp.Diff(want, cfg); diff != "" {
			t.Errorf("default config (-want +got):\n%s", diff)
		}
		if _, _, err := kv.Write("secret/config", map[string]any{"cas_required": true, "max_versions": 4}); err != nil {
			t.Fatal(err)
		}
		// A body without any field changes nothing.
		if _, _, err := kv.Write("secret/config", map[string]any{}); err != nil {
			t.Fatal(err)
		}
		cfg, _, _ = kv.Read("secret/config")
		want = map[string]any{"max_versions": num("4"), "cas_required": true, "delete_version_after": "0s"}
		if diff := cmp.Diff(want, cfg); diff != "" {
			t.Errorf("config after a write (-want +got):\n%s", diff)
		}
		_, err = kv.Put(ctx, "c", map[string]any{"a": "b"}, -1)
		if _, msgs := kv.Status(err); !cmp.Equal(msgs, []string{"check-and-set parameter required for this call"}) {
			t.Fatalf("Put without cas on a cas_required mount: %v", err)
		}
		if _, err := kv.Put(ctx, "c", map[string]any{"a": "b"}, 0); err != nil {
			t.Fatal(err)
		}
		// cas_required=false on a key does not override the mount: Vault
		// warns.
		_, warnings, err := kv.Write("secret/metadata/c", map[string]any{"cas_required": false})
		if err != nil || !cmp.Equal(warnings, []string{`"cas_required" set to false, but is mandated by backend config. This value will be ignored.`}) {
			t.Fatalf("metadata write of cas_required=false: %v, %v", warnings, err)
		}
	})
}

func TestListAndSubkeys(t *testing.T) {
	forEachClient(t, func(t *testing.T, e *env, kv kvClient) {
		ctx := context.Background()
		for _, p := range []string{"top", "app/one", "app/two", "app/deep/three", "other/x"} {
			if _, err := kv.Put(ctx, p, map[string]any{"v": p}, -1); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			path string
			want []string
		}{
			{"", []string{"app/", "other/", "top"}},
			{"app", []string{"deep/", "one", "two"}},
			{"app/", []string{"deep/", "one", "two"}},
			{"app/deep/", []string{"three"}},
		} {
			got, err := kv.List(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("list %q (-want +got):\n%s", tc.path, diff)
			}
		}
		if got, err := kv.List("nothing/"); err != nil || len(got) != 0 {
			t.Errorf("list of an empty folder: %v, %v", got, err)
		}

		// Subkeys: the structure without any value.
		if _, err := kv.Put(ctx, "app/struct", map[string]any{"a": map[string]any{"b": map[string]any{"c": 1}, "e": map[string]any{}}, "f": "g"}, -1); err != nil {
			t.Fatal(err)
		}
		data, _, err := kv.Read("secret/subkeys/app/struct")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"a": map[string]any{"b": map[string]any{"c": nil}, "e": nil}, "f": nil}
		if diff := cmp.Diff(want, data["subkeys"]); diff != "" {
			t.Errorf("subkeys (-want +got):\n%s", diff)
		}
		data, _, _ = kv.Read("secret/subkeys/app/struct", "depth", "1")
		if diff := cmp.Diff(map[string]any{"a": nil, "f": nil}, data["subkeys"]); diff != "" {
			t.Errorf("subkeys depth=1 (-want +got):\n%s", diff)
		}
		meta, _ := data["metadata"].(map[string]any)
		if meta["version"] != num("1") {
			t.Errorf("subkeys metadata: %v", meta)
		}
	})
}

func TestSystemEndpoints(t *testing.T) {
	e := newEnv(t)
	h, err := e.vault.Sys().Health()
	if err != nil || !h.Initialized || h.Sealed || h.Standby || h.Version != "1.21.0+coffer" {
		t.Fatalf("health: %+v, %v", h, err)
	}
	bh, err := e.bao.Sys().Health()
	if err != nil || !bh.Initialized || bh.Sealed {
		t.Fatalf("OpenBao health: %+v, %v", bh, err)
	}
	ss, err := e.vault.Sys().SealStatus()
	if err != nil || ss.Sealed || !ss.Initialized || ss.Type != "shamir" {
		t.Fatalf("seal status: %+v, %v", ss, err)
	}
	mounts, err := e.vault.Sys().ListMounts()
	if err != nil || mounts["secret/"] == nil || mounts["secret/"].Type != "kv" || mounts["secret/"].Options["version"] != "2" {
		t.Fatalf("mounts: %+v, %v", mounts, err)
	}
	bmounts, err := e.bao.Sys().ListMounts()
	if err != nil || bmounts["secret/"] == nil || bmounts["secret/"].Options["version"] != "2" {
		t.Fatalf("OpenBao mounts: %+v, %v", bmounts, err)
	}
	m, err := e.vault.Sys().GetMount("secret")
	if err != nil || m.Type != "kv" {
		t.Fatalf("GetMount: %+v, %v", m, err)
	}
	tok, err := e.vault.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := tok.TokenID(); id != e.n.Creds.SecretKey {
		t.Errorf("token id %q", id)
	}
	if acc, _ := tok.TokenAccessor(); acc != e.n.Creds.AccessKey {
		t.Errorf("token accessor %q", acc)
	}
	if pol, err := tok.TokenPolicies(); err != nil || len(pol) == 0 {
		t.Errorf("token policies %v, %v", pol, err)
	}
	if ttl, err := tok.TokenTTL(); err != nil || ttl != 0 {
		t.Errorf("token ttl %v, %v", ttl, err)
	}
	btok, err := e.bao.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := btok.TokenID(); id != e.n.Creds.SecretKey {
		t.Errorf("OpenBao token id %q", id)
	}

	// The preflight of the vault and bao CLIs: the mount of a path and its
	// KV version, as a string.
	for _, p := range []string{"secret", "secret/", "secret/foo/bar"} {
		s, err := e.vault.Logical().Read("sys/internal/ui/mounts/" + p)
		if err != nil || s == nil {
			t.Fatalf("preflight %s: %v", p, err)
		}
		opts, _ := s.Data["options"].(map[string]any)
		if s.Data["path"] != "secret/" || s.Data["type"] != "kv" || opts["version"] != "2" {
			t.Errorf("preflight %s: %v", p, s.Data)
		}
	}
	all, err := e.vault.Logical().Read("sys/internal/ui/mounts")
	if secrets, _ := all.Data["secret"].(map[string]any); err != nil || secrets["secret/"] == nil {
		t.Errorf("preflight listing: %v, %v", all, err)
	}
	_, err = e.vault.Logical().Read("sys/internal/ui/mounts/other/foo")
	if status, _ := (vaultKV{}).Status(err); status != 403 {
		t.Errorf("preflight of another mount: %v", err)
	}
	if _, err := e.vault.Logical().Write("auth/token/revoke-self", nil); err != nil {
		t.Errorf("revoke-self: %v", err)
	}
	if _, err := e.vault.Auth().Token().LookupSelf(); err != nil {
		t.Errorf("the API key must survive revoke-self: %v", err)
	}
}

// TestOpenBaoListing drives OpenBao's listing extensions: paging, recursive
// scans and detailed listings.
func TestOpenBaoListing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kv := e.bao.KVv2("secret")
	for _, p := range []string{"a", "b", "c/d", "c/e/f", "g"} {
		if _, err := kv.Put(ctx, p, map[string]any{"k": p}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := kv.List(ctx, "")
	if err != nil || !cmp.Equal(l.Keys, []string{"a", "b", "c/", "g"}) {
		t.Fatalf("List: %+v, %v", l, err)
	}
	page, err := e.bao.Logical().ListPage("secret/metadata/", "b", 2)
	if err != nil || !cmp.Equal(keysOf(page.Data["keys"]), []string{"c/", "g"}) {
		t.Fatalf("ListPage after b: %+v, %v", page, err)
	}
	page, err = e.bao.Logical().ListPage("secret/metadata/", "", 1)
	if err != nil || !cmp.Equal(keysOf(page.Data["keys"]), []string{"a"}) {
		t.Fatalf("ListPage limit 1: %+v, %v", page, err)
	}
	s, err := kv.Scan(ctx, "")
	if err != nil || !cmp.Equal(s.Keys, []string{"a", "b", "c/d", "c/e/f", "g"}) {
		t.Fatalf("Scan: %+v, %v", s, err)
	}
	s, err = kv.Scan(ctx, "c")
	if err != nil || !cmp.Equal(s.Keys, []string{"d", "e/f"}) {
		t.Fatalf("Scan c: %+v, %v", s, err)
	}
	d, err := kv.ListWithDetails(ctx, "c")
	if err != nil || !cmp.Equal(d.Keys, []string{"d", "e/"}) || len(d.Metadata) != 1 || d.Metadata["d"] == nil || d.Metadata["d"].CurrentVersion != 1 {
		t.Fatalf("ListWithDetails: %+v, %v", d, err)
	}
	sd, err := kv.ScanWithDetails(ctx, "")
	if err != nil || len(sd.Keys) != 5 || len(sd.Metadata) != 5 || sd.Metadata["c/e/f"].Versions["1"].Version != 1 {
		t.Fatalf("ScanWithDetails: %+v, %v", sd, err)
	}

	// exclude_deleted leaves out keys whose current version is deleted.
	if err := kv.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	body := e.ok(200, "GET", "/v1/secret/metadata/?list=true&exclude_deleted=true", "")
	var data struct{ Keys []string }
	dataOf(t, body, &data)
	if !cmp.Equal(data.Keys, []string{"a", "c/", "g"}) {
		t.Errorf("list with exclude_deleted: %v", data.Keys)
	}
}

func ptr[T any](v T) *T { return &v }
