package bench_test

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/bench"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// short is how long each measured phase of these tests lasts: long enough
// for some requests, and nothing is asserted of timings.
// short bounds a test phase; phases end sooner, after shortRequests
// requests: a loaded machine (the race detector, PostgreSQL) still gets
// requests done, a fast one does not wait.
const (
	short         = 10 * time.Second
	shortRequests = 60
)

func newBench(t *testing.T, cfg bench.Config) *bench.Bench {
	t.Helper()
	b, err := bench.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// currentVersion reads a secret's current version through the Vault API of
// coffer, whichever dialect wrote it; 0 when it has none.
func currentVersion(t *testing.T, n *nodetest.Node, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/v1/secret/metadata/"+path, nil)
	req.Header.Set("X-Vault-Token", n.Creds.SecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0
	}
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

func TestWorkloads(t *testing.T) {
	n := nodetest.Start(t)
	for _, d := range []bench.Dialect{bench.Vault, bench.Scaleway} {
		t.Run(string(d), func(t *testing.T) {
			cfg := bench.Config{Addr: n.URL, Token: n.Creds.SecretKey, Dialect: d, Project: n.Creds.ProjectID,
				Prefix: "bench/" + string(d), Secrets: 20, Versions: 2, Concurrency: 4, ServerPID: os.Getpid()}
			var progress [][2]int
			cfg.Progress = func(done, total int) { progress = append(progress, [2]int{done, total}) }
			b := newBench(t, cfg)
			pre, err := b.Preload(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if pre.Secrets != 20 || pre.Writes != 40 {
				t.Errorf("preload: %+v, want 20 secrets and 40 writes", pre)
			}
			if len(progress) == 0 || progress[len(progress)-1] != [2]int{20, 20} {
				t.Errorf("progress reports %v, want to end at 20 of 20", progress)
			}
			for i := range 20 {
				if v := currentVersion(t, n, cfg.Prefix+"/s"+strconv.Itoa(i)); v != 2 {
					t.Fatalf("secret s%d has current version %d after preload, want 2", i, v)
				}
			}
			writes := int64(0)
			for _, w := range bench.Workloads {
				res, err := b.Run(t.Context(), bench.Phase{Workload: w, Duration: short, Requests: shortRequests})
				if err != nil {
					t.Fatal(err)
				}
				if res.Requests == 0 || res.Errors != 0 || len(res.ErrorSamples) != 0 {
					t.Fatalf("%s: %d requests, %d errors %v; want some, and no error", w, res.Requests, res.Errors, res.ErrorSamples)
				}
				if res.ServerCPU == nil || res.ClientCPU == nil {
					t.Errorf("%s: no CPU figures, though the server's pid was given", w)
				}
				var wantOps []string
				switch w {
				case bench.ReadOne, bench.ReadSpread:
					wantOps = []string{"read"}
				case bench.Write:
					wantOps = []string{"write"}
				case bench.Mixed:
					wantOps = []string{"read", "write"}
				}
				for _, op := range wantOps {
					if res.Ops[op] == nil || res.Ops[op].Requests == 0 {
						t.Errorf("%s: no %s requests: %+v", w, op, res.Ops)
					}
				}
				if o := res.Ops["write"]; o != nil {
					writes += o.Requests - o.Errors
				}
			}
			// Every successful write added a version; a write the end of
			// a phase cut short may have too.
			total := 0
			for i := range 20 {
				total += currentVersion(t, n, cfg.Prefix+"/s"+strconv.Itoa(i))
			}
			if int64(total) < 40+writes || writes == 0 {
				t.Errorf("the secrets have %d versions in all after %d writes, want at least %d", total, writes, 40+writes)
			}

			// A second run finds the secrets without preloading them.
			again := newBench(t, cfg)
			if err := again.Find(t.Context()); err != nil {
				t.Fatal(err)
			}
			res, err := again.Run(t.Context(), bench.Phase{Workload: bench.ReadSpread, Duration: short, Requests: shortRequests})
			if err != nil || res.Requests == 0 || res.Errors != 0 {
				t.Fatalf("run after Find: %+v, %v", res, err)
			}

			if err := again.Cleanup(t.Context()); err != nil {
				t.Fatal(err)
			}
			switch d {
			case bench.Vault:
				if v := currentVersion(t, n, cfg.Prefix+"/s0"); v != 0 {
					t.Errorf("s0 still has version %d after cleanup", v)
				}
			case bench.Scaleway:
				if err := newBench(t, cfg).Find(t.Context()); err == nil {
					t.Errorf("Find found the secrets after cleanup")
				}
			}
		})
	}
}

func TestRequestCap(t *testing.T) {
	n := nodetest.Start(t)
	b := newBench(t, bench.Config{Addr: n.URL, Token: n.Creds.SecretKey, Dialect: bench.Vault, Prefix: "cap", Secrets: 3, Concurrency: 4})
	if _, err := b.Preload(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := b.Run(t.Context(), bench.Phase{Workload: bench.ReadOne, Duration: time.Minute, Requests: 25})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 25 || res.Errors != 0 {
		t.Errorf("%d requests, %d errors; want 25 and none", res.Requests, res.Errors)
	}
}

// TestErrorsAreCounted checks that a server refusing the token, or no
// server at all, gives errors counted by kind, within the phase's time.
func TestErrorsAreCounted(t *testing.T) {
	n := nodetest.Start(t)
	wrongToken := "00000000-0000-4000-8000-000000000000"

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name, addr, want string
	}{
		{"wrong token", n.URL, "HTTP 403"},
		{"no server", closed, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBench(t, bench.Config{Addr: tc.addr, Token: wrongToken, Dialect: bench.Vault, Prefix: "x", Secrets: 5, Concurrency: 2})
			if _, err := b.Preload(t.Context()); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("preload: %v, want an error with %q", err, tc.want)
			}
			if err := b.Find(t.Context()); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := b.Run(t.Context(), bench.Phase{Workload: bench.Mixed, Duration: short, Requests: shortRequests})
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.Errors != res.Requests || res.PerSecond != 0 {
				t.Errorf("%d requests, %d errors, %v/s; want every request to fail", res.Requests, res.Errors, res.PerSecond)
			}
			if len(res.ErrorSamples) == 0 || !strings.Contains(res.ErrorSamples[0].Error, tc.want) {
				t.Errorf("error samples %+v, want %q first", res.ErrorSamples, tc.want)
			}
			if took := time.Since(start); took > short+30*time.Second { // a hang, not a speed
				t.Errorf("a %v phase took %v", short, took)
			}
		})
	}
}

func TestConfigChecked(t *testing.T) {
	ok := bench.Config{Addr: "http://127.0.0.1:1", Token: "t", Dialect: bench.Vault, Prefix: "p", Secrets: 1}
	for name, edit := range map[string]func(*bench.Config){
		"no scheme":    func(c *bench.Config) { c.Addr = "127.0.0.1:8080" },
		"no token":     func(c *bench.Config) { c.Token = "" },
		"token break":  func(c *bench.Config) { c.Token = "a\nb" },
		"dot prefix":   func(c *bench.Config) { c.Prefix = "a/../b" },
		"empty prefix": func(c *bench.Config) { c.Prefix = "" },
		"no secrets":   func(c *bench.Config) { c.Secrets = 0 },
		"dialect":      func(c *bench.Config) { c.Dialect = "aws" },
		"region":       func(c *bench.Config) { c.Dialect, c.Region = bench.Scaleway, "Paris" },
		"concurrency":  func(c *bench.Config) { c.Concurrency = bench.MaxConcurrency + 1 },
		"no process":   func(c *bench.Config) { c.ServerPID = -5 },
	} {
		cfg := ok
		edit(&cfg)
		if _, err := bench.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	if _, err := bench.New(ok); err != nil {
		t.Errorf("New(%+v): %v", ok, err)
	}
	if _, err := bench.ParseWorkloads("read-one,write"); err != nil {
		t.Error(err)
	}
	if _, err := bench.ParseWorkloads("read-one,,write"); err == nil {
		t.Error("ParseWorkloads accepted an empty workload")
	}
}
