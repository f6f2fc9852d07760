package vaultkv_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/cache"
	"github.com/coffer-dev/coffer/internal/vaultkv"
)

// txCounter is a store that counts the transactions opened on it.
type txCounter struct {
	storage.Store
	views, updates atomic.Int64
}

func (s *txCounter) View(ctx context.Context, fn func(storage.Tx) error) error {
	s.views.Add(1)
	return s.Store.View(ctx, fn)
}

func (s *txCounter) Update(ctx context.Context, fn func(storage.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(ctx, fn)
}

// TestReadIsOneTransaction: a data or subkeys read is one engine call, one
// read transaction; the read of a version that expires once accessed adds
// one write transaction, in which its policy fires, or nothing happens.
func TestReadIsOneTransaction(t *testing.T) {
	e := newEnv(t)
	var store *txCounter
	eng := e.n.OpenEngine(t, e.clock.Now, func(s storage.Store) storage.Store {
		store = &txCounter{Store: s}
		return store
	})
	h := vaultkv.New(vaultkv.Config{Service: eng, Now: eng.Now})
	srv := httptest.NewServer(http.StripPrefix("/v1", h))
	t.Cleanup(srv.Close)
	status := func(method, path string) int {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Vault-Token", e.n.Creds.SecretKey)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	e.ok(200, "PUT", "/v1/secret/data/app/cfg", `{"data":{"k":"v"}}`)
	e.ok(200, "PUT", "/v1/secret/data/app/cfg", `{"data":{"k":"w"}}`)
	e.ok(204, "POST", "/v1/secret/delete/app/cfg", `{"versions":[1]}`)
	e.scwCreateReadOnce("app/once", "key_value", "disable", []byte(`{"k":"v"}`))
	e.scwCreateReadOnce("app/opaque", "opaque", "disable", []byte("opaque"))
	// The first request fills the caches of the API key, the caller's
	// rules, the project and its keys.
	if got := status("GET", "/v1/secret/data/app/cfg"); got != 200 {
		t.Fatalf("first read: %d", got)
	}
	for _, tc := range []struct {
		method, path   string
		status         int
		views, updates int64
	}{
		{"GET", "/v1/secret/data/app/cfg", 200, 1, 0},
		{"HEAD", "/v1/secret/data/app/cfg", 200, 1, 0},
		{"GET", "/v1/secret/subkeys/app/cfg", 200, 1, 0},
		{"GET", "/v1/secret/data/app/cfg?version=1", 404, 1, 0}, // deleted: metadata alone
		{"GET", "/v1/secret/data/app/cfg?version=9", 404, 1, 0},
		{"GET", "/v1/secret/data/app/none", 404, 1, 0},
		{"HEAD", "/v1/secret/data/app/once", 200, 1, 0},
		{"GET", "/v1/secret/data/app/opaque", 400, 1, 1}, // refused: rolled back
		{"GET", "/v1/secret/data/app/once", 200, 1, 1},
		{"GET", "/v1/secret/data/app/once", 404, 1, 0},
	} {
		store.views.Store(0)
		store.updates.Store(0)
		if got := status(tc.method, tc.path); got != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, got, tc.status)
		}
		if v, u := store.views.Load(), store.updates.Load(); v != tc.views || u != tc.updates {
			t.Errorf("%s %s: %d read and %d write transactions, want %d and %d", tc.method, tc.path, v, u, tc.views, tc.updates)
		}
	}
}

// TestCachedReadOpensNoTransaction: through the read cache, a second read
// of an unchanged secret opens no transaction of the store at all; a write
// makes the next read read the store again.
func TestCachedReadOpensNoTransaction(t *testing.T) {
	e := newEnv(t)
	var store *txCounter
	eng := e.n.OpenEngine(t, e.clock.Now, func(s storage.Store) storage.Store {
		store = &txCounter{Store: s}
		return cache.New(store, cache.Config{})
	})
	h := vaultkv.New(vaultkv.Config{Service: eng, Now: eng.Now})
	srv := httptest.NewServer(http.StripPrefix("/v1", h))
	t.Cleanup(srv.Close)
	get := func() int {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+"/v1/secret/data/app/cached", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Vault-Token", e.n.Creds.SecretKey)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	e.ok(200, "PUT", "/v1/secret/data/app/cached", `{"data":{"k":"v"}}`)
	if got := get(); got != 200 {
		t.Fatalf("first read: %d", got)
	}
	store.views.Store(0)
	for range 3 {
		if got := get(); got != 200 {
			t.Fatalf("read: %d", got)
		}
	}
	if v, u := store.views.Load(), store.updates.Load(); v != 0 || u != 0 {
		t.Errorf("3 reads of an unchanged secret: %d read and %d write transactions, want none", v, u)
	}
}
