// Package nodetest starts real coffer nodes for tests: a real store, a real
// keyring, the real engine and every dialect, behind an httptest server.
// Nothing is mocked.
//
// The store is SQLite in a temporary data directory, or, with
// COFFER_TEST_BACKEND=postgres, a schema of its own on the PostgreSQL
// database COFFER_TEST_POSTGRES names, so that the whole integration suite
// runs on both backends unchanged (see Backend and StoreFor).
package nodetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node"
)

// Node is a running test node.
type Node struct {
	*node.Node
	// URL is the base URL of the node's HTTP server.
	URL string
	// Creds are the admin credentials created at first start; on a restart
	// they are read back from the data directory.
	Creds *node.Credentials
	// DataDir and RootKey let a test restart the node on the same data,
	// or start another node of the same service on its store.
	DataDir string
	RootKey string
	// Store is the node's store setting: "" for SQLite in DataDir, else a
	// PostgreSQL URL.
	Store string

	srv *httptest.Server
}

// Option changes the configuration of a test node.
type Option func(*node.Config)

// WithNow sets the node's clock.
func WithNow(now func() time.Time) Option { return func(c *node.Config) { c.Now = now } }

// WithLimits sets the engine's limits.
func WithLimits(l engine.Limits) Option { return func(c *node.Config) { c.Limits = l } }

// WithDataDir reuses a data directory and root key, to restart a node.
func WithDataDir(dir, rootKey string) Option {
	return func(c *node.Config) { c.DataDir, c.RootKey = dir, rootKey }
}

// WithStore sets the node's store, whatever the backend of the test run.
func WithStore(store string) Option { return func(c *node.Config) { c.Store = store } }

// WithJobTiming sets how often the background jobs run and the lease
// that elects the node running them; the jobs start with StartJobs.
func WithJobTiming(interval, leaseTTL, leaseRenew time.Duration) Option {
	return func(c *node.Config) { c.JobInterval, c.LeaseTTL, c.LeaseRenew = interval, leaseTTL, leaseRenew }
}

// WithWebhooks sets how rotation triggers are delivered: the timeout of
// an attempt, the attempts, the first backoff.
func WithWebhooks(timeout time.Duration, attempts int, backoff time.Duration) Option {
	return func(c *node.Config) {
		c.Webhook.Timeout, c.Webhook.Attempts, c.Webhook.Backoff = timeout, attempts, backoff
	}
}

// WithJobTimeout sets how long a rotation job may stay open.
func WithJobTimeout(d time.Duration) Option { return func(c *node.Config) { c.JobTimeout = d } }

// WithPassphrase seals the node's store by a passphrase instead of its
// root key.
func WithPassphrase(p string) Option {
	return func(c *node.Config) { c.Passphrase = []byte(p) }
}

// WithRewrapBatch sets how many versions one transaction of the
// key-rewrap job examines.
func WithRewrapBatch(n int) Option { return func(c *node.Config) { c.RewrapBatch = n } }

// WithoutReadCache turns the node's read cache off.
func WithoutReadCache() Option { return func(c *node.Config) { c.NoReadCache = true } }

// WithLogger sets the node's logger.
func WithLogger(l *slog.Logger) Option { return func(c *node.Config) { c.Logger = l } }

// WithRegions sets the Scaleway regions served.
func WithRegions(r ...string) Option { return func(c *node.Config) { c.Regions = r } }

// NewRootKey returns a fresh base64 root key.
func NewRootKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// Start opens a node and serves it; the node stops when the test ends.
func Start(t testing.TB, opts ...Option) *Node {
	t.Helper()
	// A data directory as coffer makes one: private (t.TempDir is 0755,
	// which a node warns about).
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := node.Config{DataDir: dir, RootKey: NewRootKey(), Regions: []string{"fr-par", "nl-ams"}}
	if testing.Verbose() || os.Getenv("COFFER_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Store == "" {
		cfg.Store = StoreFor(t, cfg.DataDir)
	}
	// The listener comes first so that the credentials file of a first start
	// names the node's real URL.
	srv := httptest.NewUnstartedServer(nil)
	cfg.APIURL = "http://" + srv.Listener.Addr().String()
	n, err := node.Open(context.Background(), cfg)
	if err != nil {
		srv.Close()
		t.Fatalf("open node: %v", err)
	}
	creds := n.Credentials
	if creds == nil {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, node.CredentialsFile))
		if err == nil {
			err = json.Unmarshal(b, &creds)
		}
		if err != nil {
			t.Fatalf("read credentials of a restarted node: %v", err)
		}
	}
	srv.Config.Handler = n.Handler()
	srv.Start()
	tn := &Node{Node: n, URL: srv.URL, Creds: creds, DataDir: cfg.DataDir, RootKey: cfg.RootKey, Store: cfg.Store, srv: srv}
	t.Cleanup(func() { tn.Stop(t) })
	return tn
}

// Crash stops serving and stops the node as a crash would: its jobs lease is
// left to expire. Stop does nothing after it.
func (n *Node) Crash(t testing.TB) {
	t.Helper()
	if n.srv == nil {
		return
	}
	n.srv.CloseClientConnections()
	n.srv.Close()
	n.srv = nil
	if err := n.Node.Crash(); err != nil {
		t.Errorf("crash node: %v", err)
	}
}

// Stop stops serving and closes the node; it is safe to call twice.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	if n.srv == nil {
		return
	}
	n.srv.Close()
	n.srv = nil
	if err := n.Close(context.Background()); err != nil {
		t.Errorf("close node: %v", err)
	}
}
