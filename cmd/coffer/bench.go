package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coffer-dev/coffer/internal/bench"
	"github.com/coffer-dev/coffer/internal/node"
)

func cmdBench(ctx context.Context, e *env, args []string) error {
	f := e.flags("bench", "[flags]", `
Load a server and measure it: preload --secrets secrets under a folder of
their own, then run each workload of --workload for --duration from
--concurrency workers, each with one request in flight, and print
requests per second, latency percentiles (p50, p90, p99, max) and errors.

Workloads: read-one (every worker reads one secret), read-spread (each
read picks a secret at random), write (each request adds a version to a
random secret), mixed (nine reads for one write).

It speaks Vault KV v2 (--dialect vault, any Vault-compatible server, such
as OpenBao) or Scaleway Secret Manager (--dialect scaleway). The server
and token are --addr and --token, else COFFER_ADDR and COFFER_TOKEN,
else, with --dialect vault, VAULT_ADDR and VAULT_TOKEN, else the
credentials file of the data directory.

With --server-pid, the server's CPU time (from /proc, so on this machine)
is read before and after each phase and divided by its requests; give
phases a few seconds, as the kernel counts CPU time in 10 ms steps.
Latencies are of the successful requests; a request the end of a phase
cuts short is not counted. The command exits with status 1 when any
request failed.`, true)
	var (
		addr        = f.String("addr", "", "server base URL (default $COFFER_ADDR, else $VAULT_ADDR with --dialect vault)")
		token       = f.String("token", "", "API token (default $COFFER_TOKEN, else $VAULT_TOKEN with --dialect vault; the\nenvironment is better: flags show in the process list)")
		dialectFlag = f.String("dialect", "vault", "API to load: vault or scaleway")
		mount       = f.String("mount", "secret", "Vault KV v2 mount")
		region      = f.String("region", "", "Scaleway region (default $COFFER_REGION, else the credentials file's, else fr-par)")
		project     = f.String("project", "", "Scaleway project id the secrets are created in (default $COFFER_PROJECT, else\nthe credentials file's)")
		workloads   = f.String("workload", "read-one,read-spread,write,mixed", "workloads to run in turn, comma-separated: read-one, read-spread, write, mixed")
		secrets     = f.Int("secrets", 1000, "number of secrets")
		versions    = f.Int("versions", 1, "versions the preload gives each secret")
		valueSize   = f.Int("value-size", 64, "length of each value written, in bytes")
		concurrency = f.Int("concurrency", 16, fmt.Sprintf("workers, each with one request in flight (at most %d)", bench.MaxConcurrency))
		duration    = f.Duration("duration", 10*time.Second, "measured time of each workload")
		warmup      = f.Duration("warmup", time.Second, "unmeasured run of each workload before its measured one")
		requests    = f.Int64("requests", 0, "end each workload after this many requests, if sooner than --duration (0: no cap)")
		timeout     = f.Duration("timeout", 10*time.Second, "longest a request may take; one taking longer counts as an error")
		prefix      = f.String("prefix", "", "folder of the secrets (default coffer-bench-TIME-RANDOM, new at each run)")
		serverPID   = f.Int("server-pid", 0, "process id of the server, on this machine, to measure its CPU time per request")
		skipPreload = f.Bool("skip-preload", false, "use the secrets an earlier run preloaded under --prefix")
		cleanup     = f.Bool("cleanup", false, "delete the secrets at the end")
	)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	dialect := bench.Dialect(*dialectFlag)
	if dialect != bench.Vault && dialect != bench.Scaleway {
		return f.usageErrorf("--dialect %q: want vault or scaleway", *dialectFlag)
	}
	phases, err := bench.ParseWorkloads(*workloads)
	if err != nil {
		return f.usageErrorf("--workload: %v", err)
	}
	switch {
	case *duration <= 0:
		return f.usageErrorf("--duration must be positive")
	case *secrets < 1, *versions < 1, *valueSize < 1, *concurrency < 1:
		return f.usageErrorf("--secrets, --versions, --value-size and --concurrency must be at least 1")
	case *warmup < 0, *requests < 0, *timeout < 0:
		return f.usageErrorf("--warmup, --requests and --timeout cannot be negative")
	case *skipPreload && *prefix == "":
		return f.usageErrorf("--skip-preload needs the --prefix of the run that preloaded")
	}
	if *prefix == "" {
		var r [3]byte
		_, _ = rand.Read(r[:])
		*prefix = "coffer-bench-" + time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(r[:])
	}
	t, err := loadBenchTarget(e.getenv, dialect, *f.dataDir, *addr, *token, *project, *region)
	if err != nil {
		return err
	}
	bar := newProgress(e.stderr)
	cfg := bench.Config{
		Addr: t.addr, Token: t.token, Dialect: dialect, Mount: *mount, Region: t.region, Project: t.project,
		Prefix: *prefix, Secrets: *secrets, Versions: *versions, ValueSize: *valueSize,
		Concurrency: *concurrency, Timeout: *timeout, ServerPID: *serverPID, Progress: bar.update,
	}
	b, err := bench.New(cfg)
	if err != nil {
		return f.usageErrorf("%v", err)
	}
	defer b.Close()

	r := &benchReport{Results: []*bench.Result{}}
	r.Target.Addr, r.Target.Dialect, r.Target.Prefix = t.addr, dialect, *prefix
	r.Target.Secrets, r.Target.ValueSize, r.Target.Concurrency, r.Target.ServerPID = *secrets, *valueSize, *concurrency, *serverPID
	if dialect == bench.Vault {
		r.Target.Mount = *mount
	} else {
		r.Target.Region, r.Target.Project = t.region, t.project
	}
	if *skipPreload {
		err = b.Find(ctx)
	} else {
		bar.start("preload")
		r.Preload, err = b.Preload(ctx)
		bar.finish()
	}
	if err != nil {
		return err
	}
	for _, w := range phases {
		res, err := b.Run(ctx, bench.Phase{Workload: w, Duration: *duration, Warmup: *warmup, Requests: *requests})
		if res != nil {
			r.Results = append(r.Results, res)
		}
		if err != nil {
			if perr := r.print(e.stdout, *f.jsonOut); perr != nil {
				return perr
			}
			return fmt.Errorf("%s: %w", w, err)
		}
	}
	if *cleanup {
		bar.start("cleanup")
		err := b.Cleanup(ctx)
		bar.finish()
		if err != nil {
			return err
		}
		r.CleanedUp = true
	}
	if err := r.print(e.stdout, *f.jsonOut); err != nil {
		return err
	}
	var failed, total int64
	for _, res := range r.Results {
		failed += res.Errors
		total += res.Requests
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d requests failed", failed, total)
	}
	return nil
}

// benchTarget is the server coffer bench loads and how to call it.
type benchTarget struct {
	addr, token, project, region string
}

// loadBenchTarget resolves the server and token: flags, then COFFER_*, then,
// for Vault, VAULT_ADDR and VAULT_TOKEN, then the credentials file. The
// file's key is only sent to its own server, or to COFFER_ADDR as by every
// client command: never to a server named by --addr or VAULT_ADDR that is
// not the file's.
func loadBenchTarget(getenv func(string) string, d bench.Dialect, dataDir, addr, token, project, region string) (*benchTarget, error) {
	t := &benchTarget{addr: addr, token: token, project: project, region: region}
	addrFrom, tokenFrom := "--addr", "--token"
	pick := func(v *string, from *string, name string) {
		if *v == "" && getenv(name) != "" {
			*v, *from = getenv(name), name
		}
	}
	pick(&t.addr, &addrFrom, "COFFER_ADDR")
	pick(&t.token, &tokenFrom, "COFFER_TOKEN")
	if d == bench.Vault {
		pick(&t.addr, &addrFrom, "VAULT_ADDR")
		pick(&t.token, &tokenFrom, "VAULT_TOKEN")
	}
	if t.project == "" {
		t.project = getenv("COFFER_PROJECT")
	}
	if t.region == "" {
		t.region = getenv("COFFER_REGION")
	}
	if t.addr == "" || t.token == "" || (d == bench.Scaleway && (t.project == "" || t.region == "")) {
		if dataDir == "" {
			dataDir = getenv("COFFER_DATA_DIR")
		}
		if dataDir == "" {
			dataDir = "coffer-data"
		}
		path := filepath.Join(dataDir, node.CredentialsFile)
		creds, err := readCredentials(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			if t.addr == "" {
				t.addr, addrFrom = creds.APIURL, path
			}
			if t.token == "" {
				if addrFrom != path && addrFrom != "COFFER_ADDR" && strings.TrimRight(t.addr, "/") != strings.TrimRight(creds.APIURL, "/") {
					return nil, &usageError{msg: fmt.Sprintf("no token for %s (from %s): set COFFER_TOKEN or VAULT_TOKEN; "+
						"the key of %s is only sent to %s", t.addr, addrFrom, path, creds.APIURL), help: "coffer bench -h"}
				}
				t.token, tokenFrom = creds.SecretKey, path
			}
			if t.project == "" {
				t.project = creds.ProjectID
			}
			if t.region == "" {
				t.region = creds.Region
			}
		}
	}
	if t.region == "" {
		t.region = "fr-par"
	}
	switch {
	case t.addr == "":
		return nil, &usageError{msg: "no server: set --addr, COFFER_ADDR or VAULT_ADDR, or point --data-dir at a data directory", help: "coffer bench -h"}
	case t.token == "":
		return nil, &usageError{msg: "no token: set COFFER_TOKEN or VAULT_TOKEN", help: "coffer bench -h"}
	case d == bench.Scaleway && t.project == "":
		return nil, &usageError{msg: "no project to create the secrets in: set --project or COFFER_PROJECT", help: "coffer bench -h"}
	}
	var err error
	if t.addr, err = baseURL(t.addr, addrFrom); err != nil {
		return nil, err
	}
	if strings.ContainsAny(t.token, "\r\n\x00") {
		return nil, &usageError{msg: fmt.Sprintf("the token from %s holds a line break", tokenFrom)}
	}
	return t, nil
}

// benchReport is what coffer bench prints, as text or JSON.
type benchReport struct {
	Target struct {
		Addr        string        `json:"addr"`
		Dialect     bench.Dialect `json:"dialect"`
		Mount       string        `json:"mount,omitempty"`
		Region      string        `json:"region,omitempty"`
		Project     string        `json:"project,omitempty"`
		Prefix      string        `json:"prefix"`
		Secrets     int           `json:"secrets"`
		ValueSize   int           `json:"value_size"`
		Concurrency int           `json:"concurrency"`
		ServerPID   int           `json:"server_pid,omitempty"`
	} `json:"target"`
	Preload   *bench.PreloadResult `json:"preload,omitempty"`
	Results   []*bench.Result      `json:"results"`
	CleanedUp bool                 `json:"cleaned_up"`
}

func (r *benchReport) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return printJSON(w, r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	where := "mount " + r.Target.Mount
	if r.Target.Dialect == bench.Scaleway {
		where = "region " + r.Target.Region + ", project " + r.Target.Project
	}
	fmt.Fprintf(tw, "target\t%s (%s, %s)\n", r.Target.Addr, r.Target.Dialect, where)
	fmt.Fprintf(tw, "secrets\t%d in %s, values of %d bytes\n", r.Target.Secrets, r.Target.Prefix, r.Target.ValueSize)
	if p := r.Preload; p != nil {
		fmt.Fprintf(tw, "preload\t%d secrets, %d versions in %.2fs (%.0f versions/s)\n", p.Secrets, p.Writes, p.Seconds, float64(p.Writes)/max(p.Seconds, 1e-9))
	}
	if r.CleanedUp {
		fmt.Fprintf(tw, "cleanup\tthe secrets are deleted\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Results) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "conc\trequests\terrors\treq/s\tp50\tp90\tp99\tmax\t"
	if r.Target.ServerPID != 0 {
		head += "server CPU/req\t"
	}
	// The cells are aligned right, but for the first: padded to one width.
	width := len("workload")
	for _, res := range r.Results {
		width = max(width, len(res.Workload))
	}
	fmt.Fprintf(tw, "%-*s\t%s\n", width, "workload", head+"client CPU/req\t")
	row := func(name string, conc string, n, errs int64, rate string, l bench.Latency, server, client *bench.CPU) {
		fmt.Fprintf(tw, "%-*s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t", width, name, conc, n, errs, rate,
			fmtLatency(l.P50), fmtLatency(l.P90), fmtLatency(l.P99), fmtLatency(l.Max))
		if r.Target.ServerPID != 0 {
			fmt.Fprintf(tw, "%s\t", perRequest(server))
		}
		fmt.Fprintf(tw, "%s\t\n", perRequest(client))
	}
	for _, res := range r.Results {
		row(string(res.Workload), fmt.Sprint(res.Concurrency), res.Requests, res.Errors, fmt.Sprintf("%.0f", res.PerSecond),
			res.Latency, res.ServerCPU, res.ClientCPU)
		if len(res.Ops) > 1 {
			for _, op := range []string{"read", "write"} {
				if o := res.Ops[op]; o != nil {
					row("  "+op+"s", "", o.Requests, o.Errors, "", o.Latency, nil, nil)
				}
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Results {
		for _, s := range res.ErrorSamples {
			fmt.Fprintf(w, "%s: %d × %s\n", res.Workload, s.Count, clean(s.Error))
		}
	}
	return nil
}

// fmtLatency formats a latency in milliseconds with three significant digits.
func fmtLatency(v float64) string {
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", v)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fs", v/1000)
}

// perRequest formats the CPU time per request, or "-".
func perRequest(c *bench.CPU) string {
	if c == nil {
		return "-"
	}
	if c.PerRequest < 10 {
		return fmt.Sprintf("%.1fµs", c.PerRequest)
	}
	return fmt.Sprintf("%.0fµs", c.PerRequest)
}

// progress shows how far the preload or the cleanup is, on standard
// error: a bar redrawn in place on a terminal, else a line every few
// seconds.
type progress struct {
	w      io.Writer
	tty    bool
	label  string
	shown  bool
	last   time.Time
	period time.Duration
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, period: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// update is called with the count done, from one goroutine at a time.
func (p *progress) update(done, total int) {
	if total == 0 {
		return
	}
	if p.tty {
		const width = 30
		n := done * width / total
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
		p.shown = true
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.period {
		p.last = now
		fmt.Fprintf(p.w, "coffer bench: %s %d/%d\n", p.label, done, total)
	}
}

// start names the task whose progress follows.
func (p *progress) start(label string) {
	p.label, p.last = label, time.Now()
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
