package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/webhook"
)

const serveUsage = `
Run a coffer node: the HTTP APIs on --listen (and, with --tls-listen, on a
TLS listener that accepts client certificates), its store (SQLite in
--data-dir, or the PostgreSQL database of --store) and its background jobs,
until SIGINT or SIGTERM. On first start it creates the data directory, the
root key and an admin API key (see README.md).`

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var (
		listen      = fs.String("listen", "127.0.0.1:8080", "address to listen on")
		dataDir     = fs.String("data-dir", "./coffer-data", "directory of the root key, the first credentials and the SQLite database")
		store       = fs.String("store", getenv("COFFER_STORE"), "postgres:// URL of a PostgreSQL database several nodes may share (env COFFER_STORE); empty: SQLite in the data directory")
		noMigrate   = fs.Bool("no-migrate", false, "with PostgreSQL, refuse to start on an old schema instead of migrating it (see coffer migrate)")
		leaseTTL    = fs.Duration("lease-ttl", 15*time.Second, "how long the background jobs lease lasts unrenewed: how long jobs pause when the node running them dies")
		leaseRenew  = fs.Duration("lease-renew", 5*time.Second, "how often the background jobs lease is renewed (below --lease-ttl)")
		regions     = fs.String("region", "fr-par", "Scaleway regions served, comma-separated")
		insecure    = fs.Bool("insecure-http", false, "allow plain HTTP on a non-loopback address")
		logFormat   = fs.String("log-format", "text", "log format: text or json")
		logLevel    = fs.String("log-level", "info", "log level: debug (adds a line per request), info, warn or error")
		maxBody     = fs.Int64("max-body-size", 1<<20, "largest request body in bytes")
		maxValue    = fs.Int("max-value-size", 64<<10, "largest secret value in bytes")
		maxSecrets  = fs.Int("max-secrets-per-project", 0, "most secrets a project may hold (0: no limit)")
		jobInterval = fs.Duration("job-interval", 10*time.Second, "how often expiry, purge and automatic rotation jobs run")
		hookLocal   = fs.Bool("webhook-allow-link-local", false, "let rotation triggers call link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, metadata hostnames), refused by default")
		hookTimeout = fs.Duration("webhook-timeout", 10*time.Second, "how long one attempt to call a rotation trigger may take")
		hookTries   = fs.Int("webhook-attempts", 4, "how many times a rotation trigger is tried, with exponential backoff from 1s, before its job fails")
		jobTimeout  = fs.Duration("rotation-job-timeout", time.Hour, "how long a rotation job may stay open before it fails")
		rewrapBatch = fs.Int("key-rewrap-batch", engine.DefaultRewrapBatch, "how many versions one transaction of the key-rewrap job examines, after a protection key rotation")
		readCache   = fs.Bool("read-cache", true, "answer reads of unchanged secrets from memory (sealed records only); with PostgreSQL, --read-cache=false makes every read strongly consistent across nodes")
		maxStale    = fs.Duration("read-cache-max-stale", time.Second, "with PostgreSQL and the read cache, how long after another node's write this node may still serve the old record")
		tlsListen   = fs.String("tls-listen", "", "address of a TLS listener that accepts client certificates issued by coffer (coffer cert issue)")
		tlsCert     = fs.String("tls-cert", "", "PEM certificate of the TLS listener (default: one issued by coffer's CA at each start)")
		tlsKey      = fs.String("tls-key", "", "PEM private key of --tls-cert")
		durability  = fs.String("audit-durability", "window", "when a read's audit record is durable: window (on disk within --audit-flush-window, with the operating system before the answer) or strict (on disk before the answer); a change's record always commits with the change")
		flushWindow = fs.Duration("audit-flush-window", 10*time.Millisecond, "with --audit-durability=window, how long a read's record may wait for the disk")
		sealKind    = fs.String("seal", "", "where the root key comes from: file (root.key in the data directory), env (COFFER_ROOT_KEY) or passphrase (Argon2id of the passphrase in --passphrase-file or COFFER_PASSPHRASE); default: env when COFFER_ROOT_KEY is set, else file")
		passFile    = fs.String("passphrase-file", "", "with --seal passphrase, the file holding the passphrase (mode 0600; default: COFFER_PASSPHRASE)")
		metricsOn   = fs.Bool("metrics", true, "serve Prometheus metrics at GET /metrics")
		metricsTok  = fs.String("metrics-token-file", "", "file holding the bearer token GET /metrics requires (default: none)")
		keyRate     = fs.Float64("rate-limit-key", 0, "requests per second each API key or client certificate may send on average (0: no limit)")
		keyBurst    = fs.Int("rate-limit-key-burst", 0, "requests an API key may send at once (default: one second's worth of --rate-limit-key)")
		srcRate     = fs.Float64("rate-limit-source", 0, "requests per second each client address (IPv6: each /64) may send to the authenticated routes (0: no limit)")
		srcBurst    = fs.Int("rate-limit-source-burst", 0, "requests a client address may send at once (default: one second's worth of --rate-limit-source)")
		maxInFlight = fs.Int("max-concurrent-per-key", 128, "requests one API key or client certificate may have under way (0: no cap)")
		authFails   = fs.Int("auth-failures-per-minute", 20, "refused credentials a client address may send per minute before its requests are refused unchecked (0: no throttling)")
		proxies     = fs.String("trusted-proxies", "", "comma-separated addresses or CIDR ranges of the reverse proxies in front of coffer: the rate limits count their requests under the client address they append to X-Forwarded-For")
		projRates   = projectRates{}
	)
	fs.Var(projRates, "rate-limit-project", "PROJECT_ID=RATE[:BURST]: the rate of the API keys and certificates of one project, in place of --rate-limit-key (repeatable)")
	if code, ok := parseCommand(fs, serveUsage, args, stdout, stderr); !ok {
		return code
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "coffer: invalid --log-level %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	opts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(stderr, opts)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, opts)
	}
	log := slog.New(handler)

	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "coffer: invalid --listen %q: %v\n", *listen, err)
		return 2
	}
	if ip := net.ParseIP(host); !*insecure && (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		fmt.Fprintf(stderr, "coffer: refusing plain HTTP on non-loopback address %s: pass --insecure-http if a TLS proxy fronts it\n", *listen)
		return 2
	}
	if *store != "" && !node.IsPostgres(*store) {
		fmt.Fprintln(stderr, "coffer: --store must be a postgres:// or postgresql:// URL, or empty for SQLite in the data directory")
		return 2
	}
	if *durability != "window" && *durability != "strict" {
		fmt.Fprintln(stderr, "coffer: --audit-durability must be window or strict")
		return 2
	}
	if *flushWindow <= 0 || *flushWindow > time.Second {
		fmt.Fprintln(stderr, "coffer: --audit-flush-window must be above 0 and at most 1s")
		return 2
	}
	if *maxStale <= 0 {
		fmt.Fprintln(stderr, "coffer: --read-cache-max-stale must be positive (--read-cache=false turns the cache off)")
		return 2
	}
	if *rewrapBatch <= 0 {
		fmt.Fprintln(stderr, "coffer: --key-rewrap-batch must be positive")
		return 2
	}
	if *leaseRenew >= *leaseTTL {
		fmt.Fprintln(stderr, "coffer: --lease-renew must be below --lease-ttl")
		return 2
	}
	rootKey := getenv("COFFER_ROOT_KEY")
	var passphrase []byte
	switch *sealKind {
	case "":
	case "file":
		rootKey = ""
	case "env":
		if rootKey == "" {
			fmt.Fprintln(stderr, "coffer: --seal env needs COFFER_ROOT_KEY")
			return 2
		}
	case "passphrase":
		if passphrase, err = sealPassphrase(*passFile, getenv); err != nil {
			fmt.Fprintf(stderr, "coffer: %v\n", err)
			return 2
		}
	default:
		fmt.Fprintln(stderr, "coffer: --seal must be file, env or passphrase")
		return 2
	}
	if *passFile != "" && *sealKind != "passphrase" {
		fmt.Fprintln(stderr, "coffer: --passphrase-file goes with --seal passphrase")
		return 2
	}
	if *keyRate < 0 || *srcRate < 0 || *keyBurst < 0 || *srcBurst < 0 || *maxInFlight < 0 || *authFails < 0 {
		fmt.Fprintln(stderr, "coffer: rate limits must not be negative")
		return 2
	}
	var trusted []netip.Prefix
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				fmt.Fprintf(stderr, "coffer: --trusted-proxies: %q is neither an address nor a CIDR range\n", p)
				return 2
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		trusted = append(trusted, pfx.Masked())
	}
	var metricsToken string
	if *metricsTok != "" {
		b, err := os.ReadFile(*metricsTok)
		if err != nil {
			fmt.Fprintf(stderr, "coffer: --metrics-token-file: %v\n", err)
			return 2
		}
		if metricsToken = strings.TrimSpace(string(b)); metricsToken == "" {
			fmt.Fprintln(stderr, "coffer: --metrics-token-file is empty")
			return 2
		}
	}
	var regionList []string
	for _, r := range strings.Split(*regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			regionList = append(regionList, r)
		}
	}
	n, err := node.Open(ctx, node.Config{
		TLSListen:         *tlsListen,
		TLSCertFile:       *tlsCert,
		TLSKeyFile:        *tlsKey,
		DataDir:           *dataDir,
		Store:             *store,
		NoMigrate:         *noMigrate,
		NoReadCache:       !*readCache,
		ReadCacheMaxStale: *maxStale,
		RootKey:           rootKey,
		Passphrase:        passphrase,
		Listen:            *listen,
		Regions:           regionList,
		APIURL:            "http://" + *listen,
		Limits: engine.Limits{
			MaxPayloadSize: *maxValue, MaxSecretsPerProject: *maxSecrets, MaxPageSize: 1000,
		},
		MaxBodySize: *maxBody,
		JobInterval: *jobInterval,
		Webhook:     webhook.Config{AllowLinkLocal: *hookLocal, Timeout: *hookTimeout, Attempts: *hookTries},
		JobTimeout:  *jobTimeout,
		RewrapBatch: *rewrapBatch,
		LeaseTTL:    *leaseTTL,
		LeaseRenew:  *leaseRenew,
		Logger:      log,

		AuditStrict:      *durability == "strict",
		AuditFlushWindow: *flushWindow,

		Metrics:      *metricsOn,
		MetricsToken: metricsToken,
		RateLimits: limit.Config{
			Key:           limit.Rate{PerSecond: *keyRate, Burst: *keyBurst},
			Source:        limit.Rate{PerSecond: *srcRate, Burst: *srcBurst},
			Projects:      projRates,
			MaxConcurrent: *maxInFlight,
			AuthFailures:  *authFails,

			TrustedProxies: trusted,
		},
	})
	clear(passphrase) // the root key is derived: the passphrase is not needed any more
	if err != nil {
		fmt.Fprintf(stderr, "coffer: %v\n", err)
		return 1
	}
	if c := n.Credentials; c != nil {
		fmt.Fprintf(stdout, "First start: created organization %s, project %s and an admin API key.\n", c.OrganizationID, c.ProjectID)
		fmt.Fprintf(stdout, "  access key: %s\n  secret key: %s\n", c.AccessKey, c.SecretKey)
		fmt.Fprintf(stdout, "This is the only time the secret key is printed; it is also in %s/%s (mode 0600).\n", *dataDir, node.CredentialsFile)
	}
	if err := n.Start(); err != nil {
		fmt.Fprintf(stderr, "coffer: %v\n", err)
		_ = n.Close(context.Background())
		return 1
	}
	backend := "sqlite"
	if *store != "" {
		backend = "postgres"
	}
	if *tlsListen != "" {
		log.Info("coffer is serving TLS with client certificates", "addr", n.Server.TLSAddr(), "ca", *dataDir+"/"+node.CAFile)
	}
	log.Info("coffer is serving", "addr", n.Server.Addr(), "console", "http://"+n.Server.Addr()+"/ui/", "data_dir", *dataDir, "store", backend, "regions", regionList)
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := n.Close(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(stderr, "coffer: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// sealPassphrase returns the passphrase of --seal passphrase: the content
// of file if set, else COFFER_PASSPHRASE.
func sealPassphrase(file string, getenv func(string) string) ([]byte, error) {
	p, err := passphrase(file, "COFFER_PASSPHRASE", getenv)
	if err == nil && p == nil {
		err = errors.New("--seal passphrase needs --passphrase-file or COFFER_PASSPHRASE")
	}
	return p, err
}

// projectRates is the value of --rate-limit-project: the rate of each
// project's keys, by project id.
type projectRates map[string]limit.Rate

func (p projectRates) String() string {
	var parts []string
	for id, r := range p {
		parts = append(parts, fmt.Sprintf("%s=%g:%d", id, r.PerSecond, r.Burst))
	}
	return strings.Join(parts, ",")
}

// Set parses PROJECT_ID=RATE[:BURST].
func (p projectRates) Set(v string) error {
	id, spec, ok := strings.Cut(v, "=")
	if !ok || id == "" {
		return errors.New("want PROJECT_ID=RATE[:BURST]")
	}
	rs, bs, hasBurst := strings.Cut(spec, ":")
	rate, err := strconv.ParseFloat(rs, 64)
	if err != nil || rate < 0 {
		return errors.New("the rate must be a number of requests per second, 0 or more")
	}
	r := limit.Rate{PerSecond: rate}
	if hasBurst {
		if r.Burst, err = strconv.Atoi(bs); err != nil || r.Burst < 0 {
			return errors.New("the burst must be a whole number of requests, 0 or more")
		}
	}
	p[id] = r
	return nil
}
