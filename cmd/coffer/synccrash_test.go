package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestSyncCrashBetweenRemoteAndLocal kills a real coffer process (SIGKILL)
// after its push reached the target and before it heard back, so before
// it could record the push: restarted, the sync job finds the target
// already holding the value and writes nothing twice. Twice: on the first
// push (the remote secret created) and on a later version.
func TestSyncCrashBetweenRemoteAndLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	target := nodetest.Start(t)
	tu, err := url.Parse(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(tu)
	var (
		armed  atomic.Bool
		victim atomic.Pointer[server]
		killed = make(chan struct{}, 1)
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write := (r.Method == http.MethodPut || r.Method == http.MethodPost) && strings.Contains(r.URL.Path, "/data/")
		if !write || !armed.CompareAndSwap(true, false) {
			rp.ServeHTTP(w, r)
			return
		}
		// The write reaches the target and commits there; its answer never
		// reaches coffer, which dies first.
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		if s := victim.Load(); s != nil {
			_ = s.cmd.Process.Kill()
		}
		killed <- struct{}{}
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(proxy.Close)

	dir, addr := t.TempDir(), freeAddr(t)
	flags := []string{"--job-interval", "100ms", "--lease-ttl", "1s", "--lease-renew", "200ms"}
	start := func() *server {
		s := startServer(t, dir, addr, flags...)
		victim.Store(s)
		return s
	}
	srv := start()
	creds := readAdminCreds(t, dir)
	call := func(method, path string, body any, out any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			j, _ := json.Marshal(body)
			rd = bytes.NewReader(j)
		}
		req, _ := http.NewRequest(method, "http://"+addr+path, rd)
		if strings.HasPrefix(path, "/coffer/") {
			req.Header.Set("Authorization", "Bearer "+creds.SecretKey)
		} else {
			req.Header.Set("X-Auth-Token", creds.SecretKey)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s %s: %s", method, path, raw)
			}
		}
	}
	armed.Store(true)
	call("POST", "/coffer/v1/key-vaults", map[string]any{"project_id": creds.ProjectID, "name": "app", "target": map[string]string{
		"kind": "vault", "address": proxy.URL, "credential": target.Creds.SecretKey}}, nil)
	scw := "/secret-manager/v1beta1/regions/fr-par/secrets"
	var sec struct {
		ID string `json:"id"`
	}
	call("POST", scw, map[string]any{"project_id": creds.ProjectID, "name": "db", "path": "/app"}, &sec)
	call("POST", scw+"/"+sec.ID+"/versions", map[string]any{"data": "cHctMQ=="}, nil) // pw-1

	cfg := vaultapi.DefaultConfig()
	cfg.Address = target.URL
	vc, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(target.Creds.SecretKey)
	kv := vc.KVv2("secret")
	ctx := context.Background()

	for round, value := range []string{"pw-1", "pw-2"} {
		select {
		case <-killed:
		case <-time.After(2 * time.Minute):
			t.Fatalf("round %d: the push never reached the target\n%s", round, srv.logs)
		}
		_ = srv.cmd.Wait()
		srv = start()
		// Restarted, the job deploys the secret: available, with the
		// target's one version per coffer version.
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
			var st struct {
				KeyVaults []struct {
					Secrets []struct {
						State          string `json:"state"`
						PushedRevision int    `json:"pushed_revision"`
					} `json:"secrets"`
				} `json:"key_vaults"`
			}
			call("GET", "/coffer/v1/sync", nil, &st)
			if ss := st.KeyVaults[0].Secrets; len(ss) == 1 && ss[0].State == "available" && ss[0].PushedRevision == round+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: not deployed after the restart: %+v\n%s", round, st, srv.logs)
			}
		}
		meta, err := kv.GetMetadata(ctx, "db")
		if err != nil {
			t.Fatal(err)
		}
		if meta.CurrentVersion != round+1 || len(meta.Versions) != round+1 {
			t.Fatalf("round %d: the target holds %d versions (current %d), want %d: a push was written twice",
				round, len(meta.Versions), meta.CurrentVersion, round+1)
		}
		cur, err := kv.Get(ctx, "db")
		if err != nil || fmt.Sprint(cur.Data["value"]) != value {
			t.Fatalf("round %d: the target's value %v, %v", round, cur, err)
		}
		if round == 0 {
			armed.Store(true)
			call("POST", scw+"/"+sec.ID+"/versions", map[string]any{"data": "cHctMg=="}, nil) // pw-2
		}
	}
}
