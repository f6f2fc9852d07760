package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
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

// startServer runs `coffer serve` on dataDir in a process of its own and
// waits until it answers. extra are more flags (--store).
func startServer(t *testing.T, dataDir, addr string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", addr, "--job-interval", "1h"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "COFFER_TEST_AS_COFFER=1")
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, addr: addr, logs: logs}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
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

// adminCreds is what a first start writes to admin-credentials.json in
// its data directory.
type adminCreds struct {
	SecretKey string `json:"secret_key"`
	ProjectID string `json:"project_id"`
}

// readAdminCreds reads the admin credentials of the data directory dir.
func readAdminCreds(t *testing.T, dir string) adminCreds {
	t.Helper()
	var c adminCreds
	b, err := os.ReadFile(filepath.Join(dir, "admin-credentials.json"))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
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
// clients write versions, each with a value of its own, and read them,
// three times, restarting it each time, on SQLite and on PostgreSQL: every
// acknowledged write reads back with its value, the revisions have no gap,
// every version that committed, whether or not its writer heard back, has
// exactly one ok record in the trail, and `coffer audit verify` passes,
// through the server and offline.
func TestCrashKeepsEveryRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	t.Run("sqlite", func(t *testing.T) { crashTest(t, "") })
	t.Run("postgres", func(t *testing.T) { crashTest(t, pgtest.NewSchema(t)) })
}

// crashes is how many times crashTest kills the server; writesPerRound how
// many acknowledged writes it waits for before each kill.
const (
	crashes        = 3
	writesPerRound = 40
)

// crashTest runs the crash test on the PostgreSQL database of store, or on
// SQLite in the data directory when store is "".
func crashTest(t *testing.T, store string) {
	dir := t.TempDir()
	addr := freeAddr(t)
	var extra []string
	if store != "" {
		extra = []string{"--store", store}
	}
	srv := startServer(t, dir, addr, extra...)
	creds := readAdminCreds(t, dir)
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

	acked := map[int]string{} // the value of each revision whose writer got an answer
	var mu sync.Mutex
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	var sent atomic.Int64
	// load runs 8 writers until the server has acknowledged writesPerRound
	// more writes, kills it under way, and stops them.
	load := func() {
		var wg sync.WaitGroup
		var stop atomic.Bool
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					value := fmt.Sprintf("crash-%d-%d", w, sent.Add(1))
					code, body, err := call("POST", base+"/secrets/"+secret.ID+"/versions",
						fmt.Sprintf(`{"data":%q}`, base64.StdEncoding.EncodeToString([]byte(value))))
					if err != nil {
						continue // the crash
					}
					if code == 200 {
						var v struct {
							Revision int `json:"revision"`
						}
						_ = json.Unmarshal(body, &v)
						mu.Lock()
						acked[v.Revision] = value
						mu.Unlock()
					}
					_, _, _ = call("GET", base+"/secrets/"+secret.ID+"/versions/latest/access", "")
				}
			}()
		}
		want := ackedCount() + writesPerRound
		for deadline := time.Now().Add(2 * time.Minute); ackedCount() < want; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d writes acknowledged, want %d: %s", ackedCount(), want, srv.logs)
			}
		}
		srv.kill(t) // while the writers are under way
		stop.Store(true)
		wg.Wait()
	}
	for range crashes {
		load()
		srv = startServer(t, dir, addr, extra...)
	}

	// The revisions are 1 to the last one, without a gap (nothing was
	// pruned: max_versions is above what was written).
	versions := map[int]bool{}
	last := 0
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
			last = max(last, v.Revision)
		}
		if len(out.Versions) < 100 {
			break
		}
	}
	if last >= 1000 {
		t.Fatalf("%d versions: over max_versions, some were pruned", last)
	}
	for rev := 1; rev <= last; rev++ {
		if !versions[rev] {
			t.Errorf("revision %d is missing: the revisions 1 to %d have a gap", rev, last)
		}
	}
	// Every acknowledged write reads back with its value.
	for rev, value := range acked {
		code, body, err := call("GET", fmt.Sprintf("%s/secrets/%s/versions/%d/access", base, secret.ID, rev), "")
		var out struct {
			Data []byte `json:"data"`
		}
		if err == nil && code == 200 {
			err = json.Unmarshal(body, &out)
		}
		if err != nil || code != 200 || string(out.Data) != value {
			t.Errorf("acknowledged revision %d: %d %q %v, want the value written, %q", rev, code, out.Data, err, value)
		}
	}

	// Every version that exists has one ok record. On PostgreSQL the
	// records of the versions a crash left unanswered join the chain
	// when a node sweeps them, a minute later: wait for that.
	okRecords := func() map[int]int {
		out := map[int]int{}
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
					out[n]++
				}
			}
			if page.Next == 0 {
				return out
			}
			after = page.Next
		}
	}
	recorded := okRecords()
	for deadline := time.Now().Add(3 * time.Minute); store != "" && len(recorded) < len(versions) && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		recorded = okRecords()
	}
	for rev := range versions {
		if recorded[rev] != 1 {
			t.Errorf("revision %d has %d ok records, want 1", rev, recorded[rev])
		}
	}
	for rev, n := range recorded {
		if !versions[rev] || n > 1 {
			t.Errorf("revision %d has %d ok records but does not exist", rev, n)
		}
	}
	t.Logf("%d versions, %d acknowledged, across %d crashes", len(versions), len(acked), crashes)

	// coffer audit verify, through the server and on the database itself.
	verify := func(args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		env := map[string]string{"COFFER_ADDR": "http://" + addr, "COFFER_TOKEN": creds.SecretKey, "COFFER_PROJECT": creds.ProjectID, "COFFER_DATA_DIR": dir}
		code := run(context.Background(), append([]string{"audit", "verify"}, args...), strings.NewReader(""), &out, &errOut,
			func(k string) string { return env[k] })
		if code != 0 || !strings.Contains(out.String(), "the chain is intact") {
			t.Errorf("coffer audit verify %v: exit %d, %s %s", args, code, out.String(), errOut.String())
		}
	}
	verify()
	if store == "" {
		verify("--offline", "--data-dir", dir)
	} else {
		verify("--offline", "--store", store)
	}
}
