package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeyRewrapSurvivesKill rotates a project's protection key on a real
// coffer process, kills it with SIGKILL while the re-wrap job is half way
// and clients write, restarts it, and waits for the job to complete: the
// progress resumed from the store, every value written before, during and
// after reads back as written, and the audit chain verifies.
func TestKeyRewrapSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	srv := startServer(t, dir, addr)
	creds := readAdminCreds(t, dir)
	client := &http.Client{Timeout: 10 * time.Second}
	call := func(method, path, body string) (int, []byte, error) {
		req, err := http.NewRequest(method, "http://"+addr+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("X-Auth-Token", creds.SecretKey)
		req.Header.Set("Authorization", "Bearer "+creds.SecretKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	base := "/secret-manager/v1beta1/regions/fr-par"
	type version struct {
		secret string
		rev    int
		value  string
	}
	var (
		mu     sync.Mutex
		values []version
	)
	// write creates a secret with n versions, and records what it wrote.
	write := func(name string, n int) error {
		code, body, err := call("POST", base+"/secrets", fmt.Sprintf(`{"project_id":%q,"name":%q,"path":"/rewrap"}`, creds.ProjectID, name))
		if err != nil || code != 200 {
			return fmt.Errorf("create secret %s: %d %s %v", name, code, body, err)
		}
		var s struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &s)
		for i := range n {
			value := fmt.Sprintf("%s value %d", name, i)
			code, body, err := call("POST", base+"/secrets/"+s.ID+"/versions",
				fmt.Sprintf(`{"data":%q}`, base64.StdEncoding.EncodeToString([]byte(value))))
			if err != nil || code != 200 {
				return fmt.Errorf("create version of %s: %d %s %v", name, code, body, err)
			}
			var v struct {
				Revision int `json:"revision"`
			}
			_ = json.Unmarshal(body, &v)
			mu.Lock()
			values = append(values, version{s.ID, v.Revision, value})
			mu.Unlock()
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := range 6 {
				if err := write(fmt.Sprintf("before-%d-%d", w, i), 8); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	code, body, err := call("POST", "/coffer/v1/projects/"+creds.ProjectID+"/keys/rotate", "")
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("rotate: %d %s %v", code, body, err)
	}
	var rot struct {
		KeyID string `json:"key_id"`
	}
	_ = json.Unmarshal(body, &rot)
	type progress struct {
		KeyID     string `json:"key_id"`
		State     string `json:"state"`
		Rewrapped int64  `json:"rewrapped"`
		Total     int64  `json:"total"`
	}
	status := func() (progress, error) {
		code, body, err := call("GET", "/coffer/v1/projects/"+creds.ProjectID+"/keys/rotations", "")
		if err != nil || code != 200 {
			return progress{}, fmt.Errorf("rotations: %d %s %v", code, body, err)
		}
		var out struct {
			Rotations []progress `json:"rotations"`
		}
		_ = json.Unmarshal(body, &out)
		for _, r := range out.Rotations {
			if r.KeyID == rot.KeyID {
				return r, nil
			}
		}
		return progress{}, fmt.Errorf("no rotation of key %s: %s", rot.KeyID, body)
	}

	// The job runs from the restart, four versions per transaction, under
	// writes; it is killed once it has re-wrapped some.
	srv.kill(t)
	rewrap := []string{"--job-interval", "20ms", "--key-rewrap-batch", "4"}
	srv = startServer(t, dir, addr, rewrap...)
	var stop atomic.Bool
	var during sync.WaitGroup
	during.Go(func() {
		for i := 0; i < 40 && !stop.Load(); i++ {
			_ = write(fmt.Sprintf("during-%d", i), 2) // fails once killed
		}
	})
	var before progress
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
		p, err := status()
		if err != nil {
			t.Fatal(err)
		}
		if p.State == "complete" {
			t.Fatalf("the re-wrap completed before the kill: %+v", p)
		}
		if p.Rewrapped > 0 {
			before = p
			break
		}
		if time.Now().After(deadline) {
			srv.kill(t)
			t.Fatalf("the re-wrap did not start: %+v\n%s", p, srv.logs)
		}
	}
	srv.kill(t)
	stop.Store(true)
	during.Wait()

	srv = startServer(t, dir, addr, rewrap...)
	after, err := status()
	if err != nil {
		t.Fatal(err)
	}
	if after.Rewrapped < before.Rewrapped {
		t.Fatalf("progress went back across the kill: %+v then %+v", before, after)
	}
	t.Logf("killed at %+v; restarted at %+v", before, after)
	if err := write("after", 2); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		p, err := status()
		if err != nil {
			t.Fatal(err)
		}
		if p.State == "complete" {
			if p.Rewrapped < p.Total-1 {
				t.Errorf("complete with %d of %d re-wrapped", p.Rewrapped, p.Total)
			}
			break
		}
		if time.Now().After(deadline) {
			srv.kill(t)
			t.Fatalf("the re-wrap did not complete: %+v\n%s", p, srv.logs)
		}
	}

	for _, v := range values {
		code, body, err := call("GET", fmt.Sprintf("%s/secrets/%s/versions/%d/access", base, v.secret, v.rev), "")
		if err != nil || code != 200 {
			t.Errorf("access %s/%d: %d %s %v", v.secret, v.rev, code, body, err)
			continue
		}
		var out struct {
			Data []byte `json:"data"`
		}
		_ = json.Unmarshal(body, &out)
		if string(out.Data) != v.value {
			t.Errorf("%s/%d reads %q, want %q", v.secret, v.rev, out.Data, v.value)
		}
	}
	code, body, err = call("GET", "/coffer/v1/audit/verify", "")
	if err != nil || code != 200 || !bytes.Contains(body, []byte(`"ok":true`)) {
		t.Fatalf("audit verify: %d %s %v", code, body, err)
	}
}
