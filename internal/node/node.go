// Package node assembles one coffer node from its configuration: seal ->
// store -> keyring -> engine -> dialects -> server, plus the background
// scheduler. cmd/coffer runs a node; the integration tests start real nodes
// the same way, so what they test is what ships.
//
// The store is SQLite in the data directory, or a PostgreSQL database that
// several nodes share. Either way the data directory keeps what is not in
// the store: the root key file (unless COFFER_ROOT_KEY gives the key) and
// the admin credentials of the first start, which only the node that
// bootstrapped the store writes.
package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/adminapi"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/metrics"
	"github.com/coffer-dev/coffer/internal/scheduler"
	"github.com/coffer-dev/coffer/internal/seal"
	"github.com/coffer-dev/coffer/internal/server"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage/cache"
	"github.com/coffer-dev/coffer/internal/target"
	"github.com/coffer-dev/coffer/internal/webhook"
)

// File names inside the data directory.
const (
	DatabaseFile    = "coffer.db"
	RootKeyFile     = "root.key"
	CredentialsFile = "admin-credentials.json"
)

// Config configures a node.
type Config struct {
	// DataDir holds the root key file and the first admin credentials, and
	// the database when Store is empty.
	DataDir string
	// Store is "" for SQLite in DataDir, or the postgres:// or
	// postgresql:// URL of a PostgreSQL database that nodes may share.
	Store string
	// SQLite tunes the SQLite store; its zero value is the default (group
	// commit on: benchmarks compare with it off).
	SQLite sqlite.Options
	// NoMigrate makes a PostgreSQL store refuse to start on a schema that
	// is not current rather than migrate it (see coffer migrate).
	NoMigrate bool
	// RootKey is the base64 root key (COFFER_ROOT_KEY); when empty the key
	// file in DataDir is used, and created on first start.
	RootKey string
	// Passphrase, when not nil, seals the store by a passphrase instead
	// (coffer serve --seal passphrase): the root key is derived from it
	// with Argon2id and parameters kept in the store (seal.KDFMeta), and
	// RootKey and the key file are not used. Open does not keep it; the
	// caller wipes it once Open returns.
	Passphrase []byte
	// Listen is the address the server listens on.
	Listen string
	// Regions are the Scaleway regions served.
	Regions []string
	// APIURL is the base URL clients use, written into the credentials file.
	APIURL string
	Limits engine.Limits
	// MaxBodySize bounds request bodies.
	MaxBodySize int64
	// JobInterval is how often background jobs run; 10 s when 0.
	JobInterval time.Duration
	// AccessFlushInterval is how often this node writes the access times
	// of the versions it served (accessed.go); 10 s when 0.
	AccessFlushInterval time.Duration
	// NoAudit turns the audit trail off (benchmarks compare with it).
	NoAudit bool
	// AuditStrict makes every record durable before its request is
	// answered (--audit-durability=strict). By default a read's record
	// reaches the operating system (or the database server) before the
	// answer and the disk within AuditFlushWindow (10 ms when 0); a
	// change's record commits with the change either way (docs/audit.md).
	AuditStrict      bool
	AuditFlushWindow time.Duration
	// NoReadCache turns the read cache off (internal/storage/cache): every
	// read reads the store. On PostgreSQL it makes reads strongly
	// consistent across nodes; on SQLite the cache is exact and this only
	// costs speed.
	NoReadCache bool
	// ReadCacheBytes bounds the read cache's memory; 64 MiB when 0.
	ReadCacheBytes int64
	// ReadCacheMaxStale bounds, on PostgreSQL, how old a cached read may
	// be: how long after another node's commit this node may still serve
	// the record it replaced, even if notifications stop arriving. 1 s
	// when 0. Unused on SQLite, where the cache is exact.
	ReadCacheMaxStale time.Duration
	// LeaseTTL is how long the jobs lease lasts without renewal, so how
	// long jobs pause when the node running them dies; 15 s when 0.
	// LeaseRenew is how often it is renewed; LeaseTTL/3 when 0.
	LeaseTTL   time.Duration
	LeaseRenew time.Duration
	// TLSListen, when set, is the address of a TLS listener that verifies
	// client certificates issued by coffer's CA. TLSCertFile and
	// TLSKeyFile name its certificate; without them the node issues itself
	// one from its CA at each start.
	TLSListen   string
	TLSCertFile string
	TLSKeyFile  string
	// Webhook configures the delivery of rotation triggers: timeout,
	// attempts, backoff, and AllowLinkLocal (--webhook-allow-link-local).
	Webhook webhook.Config
	// JobTimeout is how long a rotation job may stay open;
	// engine.DefaultJobTimeout when 0.
	JobTimeout time.Duration
	// RewrapBatch is how many versions one transaction of the key-rewrap
	// job examines; engine.DefaultRewrapBatch when 0.
	RewrapBatch int
	// Metrics serves GET /metrics (docs/operations.md), behind
	// MetricsToken when it is set.
	Metrics      bool
	MetricsToken string
	// RateLimits are the rate limits, concurrency cap and throttling of
	// failed authentications of the dialects (internal/limit); its zero
	// value limits nothing.
	RateLimits limit.Config
	// Now is the clock of the engine: what is due, timestamps. Leases run
	// on the system clock (and the database's) whatever it is.
	Now    func() time.Time
	Logger *slog.Logger
}

// Node is a running coffer node.
type Node struct {
	Engine *engine.Engine
	Server *server.Server
	// Credentials are the admin credentials created on first start; nil on
	// later starts.
	Credentials *Credentials

	store     store
	raw       store        // the store under the read cache
	cache     *cache.Store // nil when the read cache is off
	lock      *dirLock     // of the data directory, for SQLite
	root      *seal.Root
	keyring   *keyring.Keyring
	scheduler *scheduler.Scheduler
	flusher   *accessFlusher
	audit     *audit.Writer
	listener  *listener
	metrics   *metrics.Registry // nil without Config.Metrics
	limiter   *limit.Limiter    // nil without limits
	log       *slog.Logger
}

// Credentials is the admin-credentials.json document.
type Credentials struct {
	AccessKey      string `json:"access_key"`
	SecretKey      string `json:"secret_key"`
	OrganizationID string `json:"organization_id"`
	ProjectID      string `json:"project_id"`
	Region         string `json:"region"`
	APIURL         string `json:"api_url"`
}

// warnOpenDataDir warns when the data directory lets other users in. It
// holds the root key, the admin credentials and, with SQLite, the database
// (whose names, metadata and audit trail are not sealed): coffer creates
// them 0600, but whatever else is written beside them (a copy of the
// database, a backup, an export) is only as private as the directory. A
// new directory is made 0700; an existing one keeps its mode. Decision: coffer warns rather than tightens it, as
// the directory is the operator's (a mount point, a directory a backup
// agent's group reads) and a mode changed behind their back could break
// what they set up.
func warnOpenDataDir(dir string, log *slog.Logger) {
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		log.Warn("the data directory is open to other users: coffer's files in it are private, but copies made beside them would not be; run: chmod 700 "+dir,
			"path", dir, "mode", fmt.Sprintf("%#o", perm))
	}
}

// ErrNoRootKey means the store holds data but no root key was given:
// starting would create a new key that cannot open the data.
var ErrNoRootKey = errors.New("the store holds data but its root key is missing: " +
	"restore " + RootKeyFile + " in the data directory or set COFFER_ROOT_KEY; nothing was changed")

// Open assembles a node: it creates the data directory and root key on
// first start, opens the store, checks the root key against it, bootstraps
// the first organization, project and admin key, and builds the HTTP
// handler. It does not listen; Start does.
func Open(ctx context.Context, cfg Config) (_ *Node, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Regions) == 0 {
		cfg.Regions = []string{"fr-par"}
	}
	if cfg.JobInterval <= 0 {
		cfg.JobInterval = 10 * time.Second
	}
	if cfg.AccessFlushInterval <= 0 {
		cfg.AccessFlushInterval = 10 * time.Second
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	warnOpenDataDir(cfg.DataDir, cfg.Logger)
	keyPath := filepath.Join(cfg.DataDir, RootKeyFile)
	noKey := cfg.RootKey == "" && cfg.Passphrase == nil && !exists(keyPath)
	if noKey && cfg.Store == "" && exists(filepath.Join(cfg.DataDir, DatabaseFile)) {
		return nil, ErrNoRootKey
	}

	n := &Node{log: cfg.Logger, limiter: limit.New(cfg.RateLimits)}
	if cfg.Metrics {
		n.metrics = metrics.New()
	}
	defer func() {
		if err != nil {
			n.closeStores()
		}
	}()
	if cfg.Store == "" {
		if n.lock, err = lockDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if noKey && cfg.Store != "" {
		// A shared database may have been set up by other nodes: then a
		// new key file would not open it, and would be left behind. Look
		// before creating one.
		if n.store, err = openStore(ctx, cfg); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		if used, err := hasData(ctx, n.store); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		} else if used {
			return nil, ErrNoRootKey
		}
	}
	if cfg.RootKey == "" && cfg.Passphrase == nil && exists(filepath.Join(cfg.DataDir, NewRootKeyFile)) {
		// A rotation of the root key stopped half way: the store says
		// which key is current.
		if n.store == nil {
			if n.store, err = openStore(ctx, cfg); err != nil {
				return nil, fmt.Errorf("open store: %w", err)
			}
		}
		if err := finishKeyFile(ctx, n.store, cfg.DataDir, cfg.Logger); err != nil {
			return nil, err
		}
	}
	var info seal.Info
	if cfg.Passphrase != nil {
		// The parameters of the passphrase are in the store.
		if n.store == nil {
			if n.store, err = openStore(ctx, cfg); err != nil {
				return nil, fmt.Errorf("open store: %w", err)
			}
		}
		kdf, err := ensureKDF(ctx, n.store)
		if err != nil {
			return nil, err
		}
		if n.root, info, err = seal.Load(seal.Config{Passphrase: cfg.Passphrase, KDF: kdf}); err != nil {
			return nil, err
		}
	} else if n.root, info, err = seal.Load(seal.Config{KeyFile: keyPath, EnvKey: cfg.RootKey}); err != nil {
		return nil, err
	}
	if info.Created {
		cfg.Logger.Warn("created a new root key next to the data; losing it loses every secret, "+
			"and anyone who copies both can read them: keep a copy elsewhere, or give the key "+
			"through COFFER_ROOT_KEY", "path", keyPath)
	}
	if n.store == nil {
		if n.store, err = openStore(ctx, cfg); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	n.raw = n.store
	if wantsReadCache(cfg) {
		n.cache = cache.New(n.raw, cache.Config{MaxBytes: cfg.ReadCacheBytes, MaxStale: readCacheMaxStale(cfg)})
		n.store = n.cache
	}
	if n.keyring, err = keyring.Open(ctx, n.store, n.root, cfg.Now); err != nil {
		return nil, wrongSeal(ctx, n.raw, cfg, err)
	}
	if !cfg.NoAudit {
		clock := cfg.Now
		if clock == nil {
			clock = time.Now
		}
		n.audit = audit.NewWriter(audit.Config{
			// The trail holds no secret: the read cache has nothing to
			// keep or drop for it.
			Store: n.raw,
			Now: func() time.Time {
				return clock().UTC().Truncate(time.Microsecond)
			},
			Strict:      cfg.AuditStrict,
			FlushWindow: cfg.AuditFlushWindow,
			// One process writes a SQLite store: what is pending at
			// start was left by a crash.
			SweepAllAtOpen: cfg.Store == "",
			Logger:         cfg.Logger,
			ObserveCommit:  n.observeAuditCommit(),
		})
		if err := n.audit.Open(ctx); err != nil {
			n.audit = nil
			return nil, err
		}
	}
	n.Engine = engine.New(engine.Config{
		Store: n.store, Keyring: n.keyring, Limits: cfg.Limits, Now: cfg.Now, Logger: cfg.Logger,
		Audit: n.auditWrite(), Webhooks: webhook.New(cfg.Webhook), JobTimeout: cfg.JobTimeout,
		Dump:        dumpTo(n.raw),
		RewrapBatch: cfg.RewrapBatch,
		ObserveTx:   n.observeTx(),
	})
	// Key vaults deploy to their targets through these clients (sync job).
	n.Engine.SetTargets(&target.Clients{})
	n.listener = listen(n.raw, n.cache, n.Engine, readCacheMaxStale(cfg)/4, cfg.Logger)
	creds, err := n.Engine.Bootstrap(ctx)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if creds != nil {
		n.Credentials = &Credentials{
			AccessKey: creds.AccessKey, SecretKey: creds.SecretKey,
			OrganizationID: creds.OrganizationID, ProjectID: creds.ProjectID,
			Region: cfg.Regions[0], APIURL: cfg.APIURL,
		}
		if err := writeCredentials(filepath.Join(cfg.DataDir, CredentialsFile), n.Credentials); err != nil {
			return nil, err
		}
	}
	if err := n.Engine.EnsureCA(ctx); err != nil {
		return nil, err
	}
	tlsConfig, err := n.tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	if n.Server, err = server.New(server.Config{
		Addr:        cfg.Listen,
		Service:     n.Engine,
		Regions:     cfg.Regions,
		MaxBodySize: cfg.MaxBodySize,
		System:      adminapi.System{Store: storeKind(cfg.Store)},
		Now:         n.Engine.Now,
		Ready:       n.store.Ping,
		Logger:      cfg.Logger,
		TLSAddr:     cfg.TLSListen,
		TLSConfig:   tlsConfig,
		Audit:       n.auditWrite(),
		AuditExpect: n.auditExpect(),
		NoAudit:     cfg.NoAudit,

		Metrics:      n.metrics,
		MetricsToken: cfg.MetricsToken,
		Limiter:      n.limiter,
	}); err != nil {
		return nil, err
	}
	n.scheduler = newScheduler(cfg, n.store, n.Engine, n.metrics)
	if err := n.registerMetrics(); err != nil {
		return nil, err
	}
	n.flusher = startAccessFlusher(n.Engine, cfg.AccessFlushInterval, cfg.Logger)
	return n, nil
}

// Handler returns the node's HTTP handler.
func (n *Node) Handler() http.Handler { return n.Server.Handler() }

// Start listens and starts the background jobs.
func (n *Node) Start() error {
	if err := n.Server.Open(); err != nil {
		return err
	}
	n.scheduler.Open()
	return nil
}

// StartJobs starts only the background jobs, for a node served by a test
// server.
func (n *Node) StartJobs() { n.scheduler.Open() }

// JobStatus tells whether this node runs the background jobs (holds their
// lease) and what they did here.
func (n *Node) JobStatus() scheduler.Status { return n.scheduler.Status() }

// Close stops the server (waiting until ctx ends for requests under way),
// the jobs, releasing their lease to another node, writes the access times
// not yet written, and closes the store.
// The root key is wiped from memory.
func (n *Node) Close(ctx context.Context) error {
	err := n.Server.Close(ctx)
	n.scheduler.Close()
	n.Engine.Close()
	n.flusher.close(false)
	if cerr := n.closeStores(); err == nil {
		err = cerr
	}
	return err
}

// Crash stops the node as a crash would, for failover tests: the jobs stop
// without releasing their lease, which other nodes take over only once it
// expires, and the server and store close without waiting for requests.
func (n *Node) Crash() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.scheduler.Abandon()
	err := n.Server.Close(ctx)
	n.Engine.Close()
	n.flusher.close(true)
	if cerr := n.closeStores(); err == nil || errors.Is(err, context.Canceled) {
		err = cerr
	}
	return err
}

func (n *Node) closeStores() error {
	n.listener.close()
	if n.audit != nil {
		n.audit.Close()
	}
	var err error
	if n.keyring != nil {
		n.keyring.Close()
	}
	if n.store != nil {
		err = n.store.Close()
	}
	n.lock.release()
	if n.root != nil {
		n.root.Close()
	}
	return err
}

// writeCredentials writes the first admin credentials, readable by the owner
// only. It never overwrites a file.
func writeCredentials(path string, c *Credentials) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	defer clear(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write admin credentials: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write admin credentials: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// auditExpect returns the writer's Expect, or nil when the trail is off.
func (n *Node) auditExpect() func() (release func()) {
	if n.audit == nil {
		return nil
	}
	return n.audit.Expect
}

// AuditStats returns what the node's audit writer has committed, or zero
// values when the trail is off.
func (n *Node) AuditStats() audit.Stats {
	if n.audit == nil {
		return audit.Stats{}
	}
	return n.audit.Stats()
}

// auditWrite returns what the server calls to write a record, or nil when
// the trail is off.
func (n *Node) auditWrite() func(context.Context, *coffer.AuditRecord) error {
	if n.audit == nil {
		return nil
	}
	return n.audit.Write
}
