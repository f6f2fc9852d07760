package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// benchOut is the part of coffer bench --json the tests read.
type benchOut struct {
	Target struct {
		Addr, Dialect, Prefix string
		Secrets               int
	}
	Preload *struct {
		Secrets, Writes int
	}
	Results []struct {
		Workload         string
		Requests, Errors int64
		PerSecond        float64            `json:"requests_per_second"`
		Latency          map[string]float64 `json:"latency_ms"`
		Ops              map[string]struct{ Requests, Errors int64 }
		ErrorSamples     []struct{ Error string } `json:"error_samples"`
		ServerCPU        *struct {
			PerRequest float64 `json:"us_per_request"`
		} `json:"server_cpu"`
	}
	CleanedUp bool `json:"cleaned_up"`
}

// quick are the flags of a short run: nothing is asserted of timings.
var quick = []string{"--secrets", "20", "--concurrency", "4", "--duration", "10s", "--requests", "60", "--warmup", "0"}

// vaultVersion reads a secret's current version through coffer's Vault
// API, whichever dialect wrote it.
func vaultVersion(t *testing.T, n *nodetest.Node, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/v1/secret/metadata/"+path, nil)
	req.Header.Set("X-Vault-Token", n.Creds.SecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Data struct {
			CurrentVersion int `json:"current_version"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&m) != nil {
		t.Fatalf("metadata of %s: status %d", path, resp.StatusCode)
	}
	return m.Data.CurrentVersion
}

func TestBenchEveryWorkload(t *testing.T) {
	c, n := newCLI(t)
	pid := strconv.Itoa(os.Getpid()) // the node runs in this process
	for _, d := range []string{"vault", "scaleway"} {
		t.Run(d, func(t *testing.T) {
			prefix := "bench-" + d
			args := append([]string{"bench", "--dialect", d, "--prefix", prefix, "--value-size", "32", "--server-pid", pid, "--json"}, quick...)
			out, errOut, code := c.run("", args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			r := decode[benchOut](t, out)
			if r.Target.Addr != n.URL || r.Target.Dialect != d || r.Target.Prefix != prefix || r.Target.Secrets != 20 {
				t.Errorf("target %+v", r.Target)
			}
			if r.Preload == nil || r.Preload.Secrets != 20 || r.Preload.Writes != 20 {
				t.Errorf("preload %+v, want 20 secrets written once", r.Preload)
			}
			var workloads []string
			writes := int64(0)
			for _, res := range r.Results {
				workloads = append(workloads, res.Workload)
				if res.Requests == 0 || res.Errors != 0 || res.PerSecond <= 0 || res.Latency["p99"] <= 0 || res.ServerCPU == nil {
					t.Errorf("%s: %+v, want requests, no error, a rate, latencies and the server's CPU", res.Workload, res)
				}
				writes += res.Ops["write"].Requests
			}
			if got := strings.Join(workloads, ","); got != "read-one,read-spread,write,mixed" {
				t.Errorf("workloads %s, want all four in order", got)
			}

			// The secrets are there, for any client: coffer get speaks
			// Scaleway. (The latest version: the write workloads may have
			// pruned the first one, beyond max_versions.)
			value := c.ok("get", "/"+prefix+"/s7")
			if d == "vault" {
				value = c.ok("get", "/"+prefix+"/s7#value")
			}
			if len(value) != 32 {
				t.Errorf("s7 holds %q, want 32 bytes", value)
			}
			// Each write added a version.
			total := 0
			for i := range 20 {
				total += vaultVersion(t, n, prefix+"/s"+strconv.Itoa(i))
			}
			if writes == 0 || int64(total) < 20+writes {
				t.Errorf("%d versions in all after 20 preloaded and %d written", total, writes)
			}

			// Another run uses them again, then deletes them.
			args = append([]string{"bench", "--dialect", d, "--prefix", prefix, "--skip-preload", "--workload", "read-spread", "--cleanup", "--json"}, quick...)
			r = decode[benchOut](t, c.ok(args...))
			if r.Preload != nil || len(r.Results) != 1 || r.Results[0].Requests == 0 || r.Results[0].Errors != 0 || !r.CleanedUp {
				t.Errorf("second run: %+v", r)
			}
			c.fail(1, "get", "/"+prefix+"/s7")
		})
	}
}

func TestBenchText(t *testing.T) {
	c, n := newCLI(t)
	out := c.ok(append([]string{"bench", "--workload", "read-one,mixed"}, quick...)...)
	mustContain(t, out, "target   "+n.URL+" (vault, mount secret)", "preload  20 secrets, 20 versions", "workload",
		"req/s", "p50", "p99", "client CPU/req", "read-one", "mixed", "reads", "writes")
	mustNotContain(t, out, n.Creds.SecretKey, "server CPU/req")
}

// TestBenchErrors checks that refused or failed requests are counted and
// reported, and end the command with status 1, within the run's time.
func TestBenchErrors(t *testing.T) {
	c, _ := newCLI(t)
	wrong := c.with("COFFER_TOKEN", "00000000-0000-4000-8000-000000000000")

	_, errOut, code := wrong.run("", append([]string{"bench"}, quick...)...)
	if code != 1 || !strings.Contains(errOut, "HTTP 403") {
		t.Errorf("preload with a wrong token: exit %d, stderr %q; want 1 and the 403", code, errOut)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for name, tc := range map[string]struct {
		c    *cli
		want string
	}{
		"wrong token": {wrong, "HTTP 403"},
		"no server":   {c.with("COFFER_ADDR", closed), "connection refused"},
	} {
		args := append([]string{"bench", "--skip-preload", "--prefix", "none", "--workload", "read-one,write", "--json"}, quick...)
		out, errOut, code := tc.c.run("", args...)
		if code != 1 || !strings.Contains(errOut, "requests failed") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and the count of failures", name, code, errOut)
			continue
		}
		r := decode[benchOut](t, out)
		for _, res := range r.Results {
			if res.Requests == 0 || res.Errors != res.Requests || len(res.ErrorSamples) == 0 || !strings.Contains(res.ErrorSamples[0].Error, tc.want) {
				t.Errorf("%s, %s: %+v; want every request failed with %q", name, res.Workload, res, tc.want)
			}
		}
	}
}

func TestBenchUsage(t *testing.T) {
	c, n := newCLI(t)
	for _, args := range [][]string{
		{"--skip-preload"},
		{"--dialect", "aws"},
		{"--workload", "read-all"},
		{"--duration", "0s"},
		{"--concurrency", "0"},
		{"--prefix", "../up"},
		{"extra"},
	} {
		c.fail(2, append([]string{"bench"}, args...)...)
	}
	errOut := c.fail(2, "bench", "--addr", "http://me:hunter2@127.0.0.1:1")
	mustNotContain(t, errOut, "hunter2")
	// The credentials file's key goes to its own server only.
	fromFile := c.with("COFFER_ADDR", "", "COFFER_TOKEN", "", "COFFER_DATA_DIR", n.DataDir)
	errOut = fromFile.fail(2, "bench", "--addr", "http://127.0.0.1:1")
	mustContain(t, errOut, "no token for http://127.0.0.1:1")
	out := fromFile.ok(append([]string{"bench", "--workload", "read-one"}, quick...)...)
	mustContain(t, out, "target   "+n.URL)
	// VAULT_ADDR and VAULT_TOKEN, as for OpenBao, with the Vault dialect.
	vault := c.with("COFFER_ADDR", "", "COFFER_TOKEN", "", "VAULT_ADDR", n.URL, "VAULT_TOKEN", n.Creds.SecretKey)
	vault.ok(append([]string{"bench", "--workload", "read-one"}, quick...)...)
	vault.fail(2, append([]string{"bench", "--dialect", "scaleway", "--workload", "read-one"}, quick...)...)
}
