// Package bench puts a secret server under load and measures it: it
// preloads secrets, then runs workloads (read one secret, read many, write,
// a mix) from a fixed number of workers for a fixed time, and reports
// throughput, latency percentiles, errors and, when the server runs on this
// machine, the CPU time it spent per request. `coffer bench` is its command.
//
// Why a package of its own, apart from the coffer client:
//
//   - It must cost little per request, so that it measures the server and
//     not itself. It speaks the wire formats of Vault KV v2 and Scaleway
//     Secret Manager v1beta1 directly over net/http, without an SDK, keeps
//     one HTTP/1.1 connection per worker alive, builds every URL before
//     the clock starts, and records latencies in per-worker histograms
//     with no lock.
//   - It must run against servers that are not coffer (Vault, OpenBao,
//     Scaleway) so that they can be compared from the same client. It knows
//     nothing of coffer and imports only the standard library.
//
// The clock is the real one, on purpose: elapsed time is what it measures.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
)

// Dialect is the API the server is spoken to in.
type Dialect string

const (
	// Vault is the Vault KV v2 API: /v1/{mount}/data/{path}.
	Vault Dialect = "vault"
	// Scaleway is the Scaleway Secret Manager v1beta1 API.
	Scaleway Dialect = "scaleway"
)

// Workload is what the workers of a phase do.
type Workload string

const (
	// ReadOne reads the latest version of the first secret, from every
	// worker: the hottest path a server has.
	ReadOne Workload = "read-one"
	// ReadSpread reads the latest version of a secret picked at random.
	ReadSpread Workload = "read-spread"
	// Write adds a version to a secret picked at random.
	Write Workload = "write"
	// Mixed is nine reads as ReadSpread for one write as Write, each
	// worker in its own order.
	Mixed Workload = "mixed"
)

// Workloads are the workloads, in the order they are best run: reads
// first, so that writes have not grown the secrets yet.
var Workloads = []Workload{ReadOne, ReadSpread, Write, Mixed}

// ParseWorkloads parses a comma-separated list of workloads.
func ParseWorkloads(s string) ([]Workload, error) {
	var out []Workload
	for _, w := range strings.Split(s, ",") {
		w := Workload(strings.TrimSpace(w))
		if !slices.Contains(Workloads, w) {
			return nil, fmt.Errorf("unknown workload %q: want read-one, read-spread, write or mixed", w)
		}
		out = append(out, w)
	}
	return out, nil
}

// Config is what to load and how.
type Config struct {
	// Addr is the server's base URL, such as http://127.0.0.1:8080.
	Addr string
	// Token authenticates every request: X-Vault-Token, or X-Auth-Token
	// for Scaleway. It is never printed.
	Token   string
	Dialect Dialect
	// Mount is the Vault KV v2 mount (default "secret").
	Mount string
	// Region and Project place Scaleway secrets (region default fr-par);
	// the project is needed to create and to find secrets.
	Region, Project string
	// Prefix is the folder of the secrets: secret i is {Prefix}/s{i}
	// (Vault path; for Scaleway, the name s{i} in the path /{Prefix}).
	Prefix string
	// Secrets is how many secrets there are; Versions how many versions
	// Preload gives each (default 1); ValueSize the length of each value
	// written (default 64).
	Secrets, Versions, ValueSize int
	// Concurrency is the number of workers, each with one request in
	// flight (default 16).
	Concurrency int
	// Timeout bounds each request (default 10s); one that takes longer
	// counts as an error.
	Timeout time.Duration
	// ServerPID, when not 0, is the server's process on this machine:
	// its CPU time is read before and after each phase.
	ServerPID int
	// Progress, when set, is called every 100ms or so during Preload and
	// Cleanup, and once at their end, from one goroutine.
	Progress func(done, total int)
}

// MaxConcurrency bounds Config.Concurrency.
const MaxConcurrency = 4096

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)

// Bench runs the phases of one benchmark against one server.
type Bench struct {
	cfg     Config
	client  *http.Client
	dialect dialect
	// targets are the secrets, by index, once Preload or Find has run.
	targets []target
	seed    uint64
}

// New checks cfg and returns a Bench. It sends nothing.
func New(cfg Config) (*Bench, error) {
	if cfg.Mount == "" {
		cfg.Mount = "secret"
	}
	if cfg.Region == "" {
		cfg.Region = "fr-par"
	}
	if cfg.Versions == 0 {
		cfg.Versions = 1
	}
	if cfg.ValueSize == 0 {
		cfg.ValueSize = 64
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	cfg.Addr = strings.TrimRight(cfg.Addr, "/")
	switch {
	case !strings.HasPrefix(cfg.Addr, "http://") && !strings.HasPrefix(cfg.Addr, "https://"):
		return nil, fmt.Errorf("address %q is not an http:// or https:// base URL", cfg.Addr)
	case cfg.Token == "":
		return nil, errors.New("no token")
	case strings.ContainsAny(cfg.Token, "\r\n\x00"):
		return nil, errors.New("the token holds a line break or NUL")
	case !prefixRE.MatchString(cfg.Prefix):
		return nil, fmt.Errorf("prefix %q is not a folder such as bench or bench/run-1", cfg.Prefix)
	case cfg.Secrets < 1:
		return nil, errors.New("want at least one secret")
	case cfg.Versions < 1:
		return nil, errors.New("want at least one version per secret")
	case cfg.ValueSize < 1:
		return nil, errors.New("want a value size of at least one byte")
	case cfg.Concurrency < 1 || cfg.Concurrency > MaxConcurrency:
		return nil, fmt.Errorf("concurrency %d is not between 1 and %d", cfg.Concurrency, MaxConcurrency)
	case cfg.Timeout < 0:
		return nil, errors.New("negative timeout")
	}
	var d dialect
	switch cfg.Dialect {
	case Vault:
		if strings.Trim(cfg.Mount, "/") == "" || strings.ContainsAny(cfg.Mount, "?#%") {
			return nil, fmt.Errorf("mount %q is not a mount path such as secret", cfg.Mount)
		}
		d = &vault{base: cfg.Addr + "/v1/" + strings.Trim(cfg.Mount, "/")}
	case Scaleway:
		if !regionRE.MatchString(cfg.Region) {
			return nil, fmt.Errorf("region %q is not a region name such as fr-par", cfg.Region)
		}
		d = &scaleway{base: cfg.Addr + "/secret-manager/v1beta1/regions/" + cfg.Region, project: cfg.Project}
	default:
		return nil, fmt.Errorf("unknown dialect %q: want vault or scaleway", cfg.Dialect)
	}
	if cfg.ServerPID != 0 {
		if _, err := cpuTime(cfg.ServerPID); err != nil {
			return nil, err
		}
	}
	b := &Bench{cfg: cfg, dialect: d, seed: rand.Uint64()}
	b.client = &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			// No proxy: the load goes straight to the server.
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   cfg.Concurrency + 4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
			// HTTP/1.1 also over TLS: one connection per worker, as
			// over plain HTTP, rather than every worker multiplexed on
			// one HTTP/2 connection.
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		},
		// A redirect would carry the token to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return b, nil
}

var regionRE = regexp.MustCompile(`^[a-z]{2}-[a-z]{3,7}$`)

// Close releases the idle connections.
func (b *Bench) Close() { b.client.CloseIdleConnections() }

// PreloadResult says what Preload did.
type PreloadResult struct {
	Secrets  int     `json:"secrets"`
	Versions int     `json:"versions_per_secret"`
	Writes   int     `json:"writes"`
	Seconds  float64 `json:"seconds"`
}

// Preload creates the secrets, each with Config.Versions versions, from
// Config.Concurrency workers. It stops at the first error, which it
// returns. With Vault, preloading a prefix again adds versions; with
// Scaleway, it fails: names are unique in a path (use Find).
func (b *Bench) Preload(ctx context.Context) (*PreloadResult, error) {
	start := time.Now()
	targets := make([]target, b.cfg.Secrets)
	var writes atomic.Int64
	err := b.each(ctx, b.cfg.Secrets, func(ctx context.Context, i int, value []byte) error {
		t, err := b.dialect.create(ctx, b, b.cfg.Prefix, name(i), value)
		if err != nil {
			return fmt.Errorf("create secret %s/%s: %w", b.cfg.Prefix, name(i), err)
		}
		writes.Add(1)
		body := b.dialect.writeBody(value)
		for range b.cfg.Versions - 1 {
			if err := b.do(ctx, http.MethodPost, t.write, body, nil); err != nil {
				return fmt.Errorf("add a version to %s/%s: %w", b.cfg.Prefix, name(i), err)
			}
			writes.Add(1)
		}
		targets[i] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.targets = targets
	return &PreloadResult{Secrets: b.cfg.Secrets, Versions: b.cfg.Versions, Writes: int(writes.Load()),
		Seconds: time.Since(start).Seconds()}, nil
}

// Find locates secrets a previous run preloaded under the same prefix,
// instead of Preload. With Vault their paths are known and nothing is sent:
// a missing secret shows as errors (404) in the phases. With Scaleway it
// lists the prefix's folder and fails unless every secret is found.
func (b *Bench) Find(ctx context.Context) error {
	t, err := b.dialect.find(ctx, b, b.cfg.Prefix, b.cfg.Secrets)
	if err != nil {
		return err
	}
	b.targets = t
	return nil
}

// Cleanup deletes the secrets (Vault: all versions and metadata;
// Scaleway: the secret, which Scaleway and coffer keep restorable for
// 7 days). It goes on past errors and returns the first.
func (b *Bench) Cleanup(ctx context.Context) error {
	var (
		mu    sync.Mutex
		first error
	)
	err := b.each(ctx, len(b.targets), func(ctx context.Context, i int, _ []byte) error {
		if err := b.do(ctx, http.MethodDelete, b.targets[i].remove, nil, nil); err != nil {
			mu.Lock()
			if first == nil {
				first = fmt.Errorf("delete secret %s/%s: %w", b.cfg.Prefix, name(i), err)
			}
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return first
}

// name is the name of secret i.
func name(i int) string { return "s" + strconv.Itoa(i) }

// each runs fn for 0 <= i < n from Config.Concurrency workers, each with a
// value of its own to write, reporting progress. It stops at the first
// error, which it returns, or when ctx ends.
func (b *Bench) each(ctx context.Context, n int, fn func(ctx context.Context, i int, value []byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done atomic.Int64
		once       sync.Once
		first      error
		wg         sync.WaitGroup
	)
	for w := range min(b.cfg.Concurrency, n) {
		wg.Go(func() {
			value := b.value(rand.New(rand.NewPCG(b.seed, uint64(w))))
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i, value); err != nil {
					once.Do(func() { first = err })
					cancel()
					return
				}
				done.Add(1)
			}
		})
	}
	// The progress reporter is owned here and stopped before return.
	stop := make(chan struct{})
	var progress sync.WaitGroup
	if b.cfg.Progress != nil {
		progress.Go(func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					b.cfg.Progress(int(done.Load()), n)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	progress.Wait()
	if b.cfg.Progress != nil {
		b.cfg.Progress(int(done.Load()), n)
	}
	if first != nil {
		return first
	}
	return ctx.Err()
}

// value returns ValueSize random letters and digits.
func (b *Bench) value(rng *rand.Rand) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	v := make([]byte, b.cfg.ValueSize)
	for i := range v {
		v[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return v
}

// Phase is one measured run of a workload.
type Phase struct {
	Workload Workload
	// Duration bounds the measured run (required); Requests, when not 0,
	// ends it after that many requests.
	Duration time.Duration
	Requests int64
	// Warmup runs the workload unmeasured first.
	Warmup time.Duration
}

// Result is what a phase measured. Requests counts the requests that
// completed, failed ones included; requests the end of the phase cut short
// are not counted. Latencies and the rate are of the successful ones.
type Result struct {
	Workload    Workload `json:"workload"`
	Concurrency int      `json:"concurrency"`
	Seconds     float64  `json:"seconds"`
	Requests    int64    `json:"requests"`
	Errors      int64    `json:"errors"`
	// PerSecond is the rate of successful requests.
	PerSecond float64 `json:"requests_per_second"`
	Latency   Latency `json:"latency_ms"`
	// Ops splits the counts by operation: "read", "write".
	Ops map[string]*OpResult `json:"ops"`
	// ErrorSamples are the most frequent errors, by kind.
	ErrorSamples []ErrorCount `json:"error_samples,omitempty"`
	// ServerCPU is set when Config.ServerPID is; ClientCPU is this
	// process's own, to tell a client-bound run.
	ServerCPU *CPU `json:"server_cpu,omitempty"`
	ClientCPU *CPU `json:"client_cpu,omitempty"`
}

// OpResult is the share of one operation in a phase.
type OpResult struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Latency  Latency `json:"latency_ms"`
}

// Latency holds percentiles of request durations, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// ErrorCount is how often one kind of error happened.
type ErrorCount struct {
	Error string `json:"error"`
	Count int64  `json:"count"`
}

// CPU is the CPU time a process spent during a phase.
type CPU struct {
	Seconds float64 `json:"seconds"`
	// PerRequest is in microseconds, over the completed requests.
	PerRequest float64 `json:"us_per_request"`
	// Cores is Seconds over the phase's duration.
	Cores float64 `json:"cores"`
}

// Run runs one phase. When ctx ends first, it returns what was measured so
// far with ctx's error.
func (b *Bench) Run(ctx context.Context, p Phase) (*Result, error) {
	if b.targets == nil {
		return nil, errors.New("no secrets: run Preload or Find first")
	}
	if !slices.Contains(Workloads, p.Workload) {
		return nil, fmt.Errorf("unknown workload %q", p.Workload)
	}
	if p.Duration <= 0 || p.Warmup < 0 || p.Requests < 0 {
		return nil, errors.New("a phase needs a positive duration, and no negative warmup or request count")
	}
	if p.Warmup > 0 {
		b.phase(ctx, p.Workload, p.Warmup, 0)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	cpu := b.cpuClock()
	stats, elapsed := b.phase(ctx, p.Workload, p.Duration, p.Requests)
	res := &Result{Workload: p.Workload, Concurrency: b.cfg.Concurrency, Seconds: elapsed.Seconds(), Ops: map[string]*OpResult{}}
	var (
		all    histogram
		errs   = map[string]int64{}
		byOp   [nOps]histogram
		counts [nOps]struct{ n, errs int64 }
	)
	for _, s := range stats {
		for op := range nOps {
			if h := s.hist[op]; h != nil {
				byOp[op].merge(h)
			}
			counts[op].n += s.n[op]
			counts[op].errs += s.errs[op]
		}
		for k, n := range s.errKinds {
			errs[k] += n
		}
	}
	for op := range nOps {
		if counts[op].n == 0 {
			continue
		}
		all.merge(&byOp[op])
		res.Requests += counts[op].n
		res.Errors += counts[op].errs
		res.Ops[opNames[op]] = &OpResult{Requests: counts[op].n, Errors: counts[op].errs, Latency: latency(&byOp[op])}
	}
	res.Latency = latency(&all)
	if elapsed > 0 {
		res.PerSecond = float64(all.n) / elapsed.Seconds()
	}
	for k, n := range errs {
		res.ErrorSamples = append(res.ErrorSamples, ErrorCount{Error: k, Count: n})
	}
	slices.SortFunc(res.ErrorSamples, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Error, b.Error))
	})
	res.ErrorSamples = res.ErrorSamples[:min(len(res.ErrorSamples), maxErrorKinds)]
	res.ServerCPU, res.ClientCPU = cpu(res.Requests, elapsed)
	return res, ctx.Err()
}

func latency(h *histogram) Latency {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Latency{P50: ms(h.quantile(0.50)), P90: ms(h.quantile(0.90)), P99: ms(h.quantile(0.99)),
		Max: ms(h.max), Mean: ms(h.mean())}
}

// cpuClock reads the CPU time of the server, when known, and of this
// process, and returns a function that reads them again and returns what
// each spent since.
func (b *Bench) cpuClock() func(requests int64, elapsed time.Duration) (server, client *CPU) {
	server, client := startCPU(b.cfg.ServerPID), startCPU(os.Getpid())
	return func(requests int64, elapsed time.Duration) (*CPU, *CPU) {
		return server(requests, elapsed), client(requests, elapsed)
	}
}

// Operations, as indexes of the per-worker counts.
const (
	opRead = iota
	opWrite
	nOps
)

var opNames = [nOps]string{"read", "write"}

// maxErrorKinds bounds the kinds of errors kept, per worker and in a
// result.
const maxErrorKinds = 8

// workerStats is what one worker measured; only that worker touches it
// until the phase ends.
type workerStats struct {
	hist     [nOps]*histogram
	n, errs  [nOps]int64
	errKinds map[string]int64
}

func (s *workerStats) record(op int, d time.Duration, err error) {
	s.n[op]++
	if err != nil {
		s.errs[op]++
		k := errorKind(err)
		if _, ok := s.errKinds[k]; ok || len(s.errKinds) < maxErrorKinds {
			s.errKinds[k]++
		} else {
			s.errKinds["other"]++
		}
		return
	}
	if s.hist[op] == nil {
		s.hist[op] = new(histogram)
	}
	s.hist[op].record(d)
}

// phase runs workload w from every worker until d has passed or limit
// requests have started (limit, when not 0), and returns what each worker measured with the
// time it took.
func (b *Bench) phase(ctx context.Context, w Workload, d time.Duration, limit int64) ([]*workerStats, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	stats := make([]*workerStats, b.cfg.Concurrency)
	var (
		started atomic.Int64
		wg      sync.WaitGroup
	)
	start := time.Now()
	for i := range stats {
		s := &workerStats{errKinds: map[string]int64{}}
		stats[i] = s
		wg.Go(func() { b.work(ctx, w, i, s, &started, limit) })
	}
	wg.Wait()
	return stats, time.Since(start)
}

// work is one worker of a phase.
func (b *Bench) work(ctx context.Context, w Workload, id int, s *workerStats, started *atomic.Int64, limit int64) {
	rng := rand.New(rand.NewPCG(b.seed, uint64(id)+1<<32))
	body := b.dialect.writeBody(b.value(rng))
	for n := 0; ctx.Err() == nil; n++ {
		if limit > 0 && started.Add(1) > limit {
			return
		}
		t := &b.targets[0]
		if w != ReadOne {
			t = &b.targets[rng.IntN(len(b.targets))]
		}
		op := opRead
		// Mixed: worker i writes at its request 10k-i, so that even a
		// short phase writes, and the workers do not write in step.
		if w == Write || (w == Mixed && (n+id)%10 == 0) {
			op = opWrite
		}
		begin := time.Now()
		var err error
		if op == opRead {
			err = b.do(ctx, http.MethodGet, t.read, nil, nil)
		} else {
			err = b.do(ctx, http.MethodPost, t.write, body, nil)
		}
		d := time.Since(begin)
		if err != nil && ctx.Err() != nil {
			return // cut short by the end of the phase: not counted
		}
		s.record(op, d, err)
	}
}

// target is where one secret is read, written and deleted.
type target struct {
	read, write, remove string
}

// dialect is what differs between the APIs: how a secret is created and
// found, and what a version's body is. Reads, writes and deletes are one
// request each, to the target's URLs.
type dialect interface {
	create(ctx context.Context, b *Bench, prefix, name string, value []byte) (target, error)
	find(ctx context.Context, b *Bench, prefix string, n int) ([]target, error)
	writeBody(value []byte) []byte
	tokenHeader() string
}

// maxBody bounds how much of a response is read.
const maxBody = 4 << 20

// do sends one request with the token and, for a success, decodes the
// response's JSON into out when out is not nil, else reads and drops it. An
// answer outside 2xx is a *StatusError.
func (b *Bench) do(ctx context.Context, method, url string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header[b.dialect.tokenHeader()] = []string{b.cfg.Token}
	if body != nil {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return &StatusError{Code: resp.StatusCode, Message: serverMessage(msg)}
	}
	r := io.LimitReader(resp.Body, maxBody)
	if out != nil {
		// The decoder's error could quote the body: it is not kept.
		if json.NewDecoder(r).Decode(out) != nil {
			return fmt.Errorf("%s %s: the response is not the JSON expected", method, url)
		}
	}
	_, err = io.Copy(io.Discard, r)
	return err
}

// StatusError is an answer outside 2xx.
type StatusError struct {
	Code int
	// Message is the server's message, shortened, when it gave one in a
	// form known: Vault's errors or Scaleway's message.
	Message string
}

func (e *StatusError) Error() string {
	s := "HTTP " + strconv.Itoa(e.Code)
	if t := http.StatusText(e.Code); t != "" {
		s += " " + t
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// serverMessage returns the message of an error body, shortened and made
// printable, or "".
func serverMessage(body []byte) string {
	var v struct {
		Errors  []string `json:"errors"`
		Message string   `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	m := v.Message
	if m == "" && len(v.Errors) > 0 {
		m = v.Errors[0]
	}
	// On one line, whatever the server's layout.
	m = strings.Join(strings.FieldsFunc(m, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(m) > 120 {
		m = strings.ToValidUTF8(m[:120], "") + "…"
	}
	return m
}

// errorKind sorts an error into a few kinds for the samples: the status
// and message of an answer, a timeout, or the transport's error.
func errorKind(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
