package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets a test run this binary as `coffer` in a process of its
// own: with COFFER_TEST_AS_COFFER set, it is the command, not the tests.
func TestMain(m *testing.M) {
	if os.Getenv("COFFER_TEST_AS_COFFER") != "" {
		main()
	}
	os.Exit(m.Run())
}

// server is a `coffer serve` process.
type server struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

// startServer runs `coffer serve` on dataDir, with more flags when given,
// in a process of its own and waits until it answers.
func startServer(t *testing.T, dataDir, addr string, flags ...string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--data-dir", dataDir, "--listen", addr, "--job-interval", "1h"}, flags...)...)
	cmd.Env = append(os.Environ(), "COFFER_TEST_AS_COFFER=1")
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, addr: addr, logs: logs}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("coffer serve did not answer: %v\n%s", err, logs)
		}
	}
}

// kill stops the server as a crash would: SIGKILL, no shutdown.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
}

// freeAddr returns a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCrashKeepsEveryRecord kills a real coffer process with SIGKILL while
// clients write versions and read them, twice, restarting it each time:
// every version that committed, whether or not its writer heard back, has
// exactly one ok record in the trail, every acknowledged write is there,
// and the chain verifies.
func TestCrashKeepsEveryRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	srv := startServer(t, dir, addr)
	var creds struct {
		SecretKey string `json:"secret_key"`
		ProjectID string `json:"project_id"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "admin-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr + "/secret-manager/v1beta1/regions/fr-par"
	client := &http.Client{Timeout: 10 * time.Second}
	call := func(method, url, body string) (int, []byte, error) {
		req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("X-Auth-Token", creds.SecretKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	code, body, err := call("POST", base+"/secrets", fmt.Sprintf(`{"project_id":%q,"name":"crash","path":"/t"}`, creds.ProjectID))
	if err != nil || code != 200 {
		t.Fatalf("create secret: %d %s %v", code, body, err)
	}
	var secret struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &secret)
	// Keep every version: pruned ones could not be checked.
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/secret/metadata/t/crash", bytes.NewReader([]byte(`{"max_versions":1000}`)))
	req.Header.Set("X-Vault-Token", creds.SecretKey)
	if resp, err := client.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("max_versions: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	acked := map[int]bool{} // revisions whose writers got an answer
	var mu sync.Mutex
	load := func(d time.Duration) {
		var wg sync.WaitGroup
		var stop atomic.Bool
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					code, body, err := call("POST", base+"/secrets/"+secret.ID+"/versions", `{"data":"Y3Jhc2g="}`)
					if err != nil {
						continue // the crash
					}
					if code == 200 {
						var v struct {
							Revision int `json:"revision"`
						}
						_ = json.Unmarshal(body, &v)
						mu.Lock()
						acked[v.Revision] = true
						mu.Unlock()
					}
					_, _, _ = call("GET", base+"/secrets/"+secret.ID+"/versions/latest/access", "")
				}
			}()
		}
		time.Sleep(d)
		srv.kill(t) // while the writers are under way
		stop.Store(true)
		wg.Wait()
	}
	for range 2 {
		load(time.Second)
		srv = startServer(t, dir, addr)
	}

	// Every version that exists has one ok record; every acknowledged one
	// exists.
	versions := map[int]bool{}
	for page := 1; ; page++ {
		code, body, err := call("GET", base+"/secrets/"+secret.ID+"/versions?page_size=100&page="+strconv.Itoa(page), "")
		if err != nil || code != 200 {
			t.Fatalf("list versions: %d %s %v", code, body, err)
		}
		var out struct {
			Versions []struct {
				Revision int `json:"revision"`
			} `json:"versions"`
		}
		_ = json.Unmarshal(body, &out)
		for _, v := range out.Versions {
			versions[v.Revision] = true
		}
		if len(out.Versions) < 100 {
			break
		}
	}
	// Past max_versions the oldest versions are pruned: below the oldest
	// that remains, a version's absence says nothing.
	oldest := 0
	for rev := range versions {
		if oldest == 0 || rev < oldest {
			oldest = rev
		}
	}
	for rev := range acked {
		if rev >= oldest && !versions[rev] {
			t.Errorf("acknowledged revision %d is missing", rev)
		}
	}
	okRecords := map[int]int{}
	after := int64(0)
	for {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/coffer/v1/audit?secret_id=%s&page_size=1000&after=%d", addr, secret.ID, after), nil)
		req.Header.Set("Authorization", "Bearer "+creds.SecretKey)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Records []struct {
				Action   string `json:"action"`
				Revision string `json:"revision"`
				Outcome  string `json:"outcome"`
			} `json:"records"`
			Next int64 `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			if r.Outcome == "ok" && r.Action == "POST /secret-manager/v1beta1/regions/{region}/secrets/{secret_id}/versions" {
				n, _ := strconv.Atoi(r.Revision)
				okRecords[n]++
			}
		}
		if page.Next == 0 {
			break
		}
		after = page.Next
	}
	for rev := range versions {
		if okRecords[rev] != 1 {
			t.Errorf("revision %d has %d ok records, want 1", rev, okRecords[rev])
		}
	}
	for rev, n := range okRecords {
		if rev >= oldest && !versions[rev] || n > 1 {
			t.Errorf("revision %d has %d ok records but does not exist", rev, n)
		}
	}
	t.Logf("%d versions, %d acknowledged, across 2 crashes", len(versions), len(acked))

	req, _ = http.NewRequest("GET", "http://"+addr+"/coffer/v1/audit/verify", nil)
	req.Header.Set("Authorization", "Bearer "+creds.SecretKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		OK      bool   `json:"ok"`
		Problem string `json:"problem"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || !v.OK {
		t.Fatalf("verify after the crashes: %+v, %v", v, err)
	}
}
