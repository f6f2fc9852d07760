package node_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/seal"
)

// rootFixture starts a node whose root key is in the key file of its data
// directory, writes a secret and a second project (so two protection
// keys), and stops it. It returns the node and the secret's id.
func rootFixture(t *testing.T, opts ...nodetest.Option) (*nodetest.Node, string) {
	t.Helper()
	dir := t.TempDir()
	n := nodetest.Start(t, append([]nodetest.Option{nodetest.WithDataDir(dir, "")}, opts...)...)
	ctx := as(t, n)
	id := write(t, ctx, n, "kept", coffer.TypeOpaque, "across the rotation")
	if _, err := n.Engine.CreateProject(ctx, "second"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.ExportKey(ctx); err != nil { // its private half sealed under the root key
		t.Fatal(err)
	}
	n.Stop(t)
	return n, id
}

// restart starts the node of f again with opts and checks that it reads
// the secret, authenticates its admin key, issues a client certificate
// (the CA's key), creates a protection key (sealed under the root key) and
// imports a file encrypted to its export key (whose private half it opens).
func restart(t *testing.T, f *nodetest.Node, id string, opts ...nodetest.Option) *nodetest.Node {
	t.Helper()
	n := nodetest.Start(t, append([]nodetest.Option{nodetest.WithDataDir(f.DataDir, ""), nodetest.WithStore(f.Store)}, opts...)...)
	ctx := as(t, n)
	if got, err := read(ctx, n, id, coffer.Latest); err != nil || got != "across the rotation" {
		t.Fatalf("read after the rotation: %q, %v", got, err)
	}
	if _, err := n.Engine.CreateProtectionKey(ctx, n.Creds.ProjectID, "after"); err != nil {
		t.Fatalf("a protection key after the rotation: %v", err)
	}
	if _, err := n.Engine.IssueClientCertificate(ctx, "", n.Creds.ProjectID, 0); err != nil {
		t.Fatalf("a client certificate after the rotation: %v", err)
	}
	recipient, err := n.Engine.ExportKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if _, err := n.Engine.Export(ctx, coffer.ExportRequest{ProjectID: n.Creds.ProjectID, Recipient: recipient}, &file); err != nil {
		t.Fatalf("export after the rotation: %v", err)
	}
	if _, err := n.Engine.Import(ctx, coffer.ImportRequest{OnConflict: coffer.ConflictSkip}, bytes.NewReader(file.Bytes())); err != nil {
		t.Fatalf("import to the export key after the rotation: %v", err)
	}
	return n
}

// keyText returns the content of a key file, as COFFER_ROOT_KEY holds it.
func keyText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// rotationRecords counts the records of root key rotations in the trail,
// and checks the chain.
func rotationRecords(t *testing.T, n *nodetest.Node) int {
	t.Helper()
	v, err := node.VerifyAudit(context.Background(), node.Config{DataDir: n.DataDir, Store: n.Store}, nil)
	if err != nil || !v.OK {
		t.Fatalf("audit verify: %+v, %v", v, err)
	}
	count := 0
	for _, r := range nodetest.OpenSQL(t, n.DataDir, n.Store).AuditRecords(t) {
		if strings.HasPrefix(r.Action, "rotate-root ") && r.Dialect == "operator" {
			count++
		}
	}
	return count
}

func TestRotateRootKeyFile(t *testing.T) {
	f, id := rootFixture(t)
	keyPath := filepath.Join(f.DataDir, node.RootKeyFile)
	old := keyText(t, keyPath)

	out, err := node.RotateRoot(context.Background(), node.RotateRootConfig{DataDir: f.DataDir, Store: f.Store})
	if err != nil {
		t.Fatal(err)
	}
	if out.Seal != seal.SourceFile || out.KeyVersions < 2 || out.Credentials < 1 {
		t.Errorf("rotation = %+v, want two key versions and the admin key at least", out)
	}
	if keyText(t, keyPath) == old {
		t.Fatal("the key file still holds the old key")
	}
	if _, err := os.Stat(filepath.Join(f.DataDir, node.NewRootKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", node.NewRootKeyFile, err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	// The old key is refused.
	if _, err := node.Open(context.Background(), node.Config{DataDir: f.DataDir, Store: f.Store, RootKey: old}); !errors.Is(err, keyring.ErrWrongRootKey) {
		t.Fatalf("start with the old key: err = %v", err)
	}
	n := restart(t, f, id)
	n.Stop(t)
	if got := rotationRecords(t, n); got != 1 {
		t.Errorf("%d rotation records, want 1", got)
	}
}

// TestRotateRootCrash leaves the data directory as a crash of rotate-root
// would, on each side of the commit: the next start finishes the rotation
// or undoes it, and the node works.
func TestRotateRootCrash(t *testing.T) {
	f, id := rootFixture(t)
	keyPath := filepath.Join(f.DataDir, node.RootKeyFile)
	newPath := filepath.Join(f.DataDir, node.NewRootKeyFile)
	old := keyText(t, keyPath)

	// Before the commit: the new key is on disk, nothing is sealed under it.
	if _, err := seal.CreateKeyFile(newPath); err != nil {
		t.Fatal(err)
	}
	n := restart(t, f, id)
	n.Stop(t)
	if _, err := os.Stat(newPath); !os.IsNotExist(err) {
		t.Fatalf("the uncommitted new key is still there: %v", err)
	}
	if keyText(t, keyPath) != old {
		t.Fatal("the key changed although the rotation did not commit")
	}

	// After the commit, before the move: the store is under the key in
	// root.key.new (what the env seal's rotation leaves is the same state).
	if _, err := node.RotateRoot(context.Background(), node.RotateRootConfig{
		DataDir: f.DataDir, Store: f.Store, RootKey: old, NewKeyFile: newPath,
	}); err != nil {
		t.Fatal(err)
	}
	fresh := keyText(t, newPath)
	n = restart(t, f, id)
	n.Stop(t)
	if _, err := os.Stat(newPath); !os.IsNotExist(err) {
		t.Fatalf("the committed new key was not moved: %v", err)
	}
	if keyText(t, keyPath) != fresh {
		t.Fatal("root.key does not hold the new key")
	}
	// A rotation of the file seal runs the same recovery first.
	if _, err := seal.CreateKeyFile(newPath); err != nil {
		t.Fatal(err)
	}
	if _, err := node.RotateRoot(context.Background(), node.RotateRootConfig{DataDir: f.DataDir, Store: f.Store}); err != nil {
		t.Fatal(err)
	}
	n = restart(t, f, id)
	n.Stop(t)
	if got := rotationRecords(t, n); got != 2 {
		t.Errorf("%d rotation records, want 2", got)
	}
}

func TestRotateRootEnv(t *testing.T) {
	f, id := rootFixture(t, func(c *node.Config) { c.RootKey = nodetest.NewRootKey() })
	newFile := filepath.Join(t.TempDir(), "new.key")
	cfg := node.RotateRootConfig{DataDir: f.DataDir, Store: f.Store, RootKey: f.RootKey}
	if _, err := node.RotateRoot(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--new-key-file") {
		t.Fatalf("no new key file: err = %v", err)
	}
	cfg.NewKeyFile = newFile
	if _, err := node.RotateRoot(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	// The new key file is never overwritten.
	if _, err := node.RotateRoot(context.Background(), node.RotateRootConfig{DataDir: f.DataDir, Store: f.Store,
		RootKey: keyText(t, newFile), NewKeyFile: newFile}); err == nil {
		t.Fatal("a rotation overwrote an existing key file")
	}
	if _, err := node.Open(context.Background(), node.Config{DataDir: f.DataDir, Store: f.Store, RootKey: f.RootKey}); !errors.Is(err, keyring.ErrWrongRootKey) {
		t.Fatalf("start with the old key: err = %v", err)
	}
	restart(t, f, id, nodetest.WithDataDir(f.DataDir, keyText(t, newFile))).Stop(t)
}

func TestRotateRootPassphrase(t *testing.T) {
	const (
		oldPass = "the first long passphrase"
		newPass = "the second long passphrase"
	)
	f, id := rootFixture(t, nodetest.WithPassphrase(oldPass))
	if _, err := node.RotateRoot(context.Background(), node.RotateRootConfig{DataDir: f.DataDir, Store: f.Store,
		Passphrase: []byte("a wrong long passphrase"), NewPassphrase: []byte(newPass)}); !errors.Is(err, keyring.ErrWrongRootKey) {
		t.Fatalf("a wrong current passphrase: err = %v", err)
	}
	if _, err := node.RotateRoot(context.Background(), node.RotateRootConfig{DataDir: f.DataDir, Store: f.Store,
		Passphrase: []byte(oldPass), NewPassphrase: []byte(newPass)}); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Open(context.Background(), node.Config{DataDir: f.DataDir, Store: f.Store, Passphrase: []byte(oldPass)}); err == nil ||
		!strings.Contains(err.Error(), "passphrase does not open") {
		t.Fatalf("start with the old passphrase: err = %v", err)
	}
	restart(t, f, id, nodetest.WithPassphrase(newPass)).Stop(t)
}

// TestRotateRootNodeRunning: on SQLite the data directory of a running
// node is locked.
func TestRotateRootNodeRunning(t *testing.T) {
	if nodetest.Backend() != "sqlite" {
		t.Skip("the lock is SQLite's")
	}
	n := nodetest.Start(t, nodetest.WithDataDir(t.TempDir(), ""))
	_, err := node.RotateRoot(context.Background(), node.RotateRootConfig{DataDir: n.DataDir})
	if err == nil || !strings.Contains(err.Error(), "stop the node") {
		t.Fatalf("rotation beside a running node: err = %v", err)
	}
}

// TestRotateRootUnderRunningNode: with PostgreSQL the root key rotates
// while a node runs. The node goes on reading and writing secrets with the
// protection keys it holds, and refuses, without writing anything, what
// would seal under its old root key: a new protection key, an API key.
func TestRotateRootUnderRunningNode(t *testing.T) {
	if nodetest.Backend() != "postgres" {
		t.Skip("nodes run beside a rotation only on PostgreSQL")
	}
	logs := &lockedBuffer{}
	n := nodetest.Start(t, nodetest.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	ctx := as(t, n)
	id := write(t, ctx, n, "live", coffer.TypeOpaque, "served throughout")
	newFile := filepath.Join(t.TempDir(), "new.key")
	if _, err := node.RotateRoot(context.Background(), node.RotateRootConfig{
		DataDir: t.TempDir(), Store: n.Store, RootKey: n.RootKey, NewKeyFile: newFile,
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := read(ctx, n, id, coffer.Latest); err != nil || got != "served throughout" {
		t.Fatalf("read on the running node: %q, %v", got, err)
	}
	if _, _, err := n.Engine.CreateVersion(ctx, id, coffer.VersionCreate{Data: coffer.Payload("still written")}); err != nil {
		t.Fatalf("write on the running node: %v", err)
	}
	if _, err := n.Engine.CreateProtectionKey(ctx, n.Creds.ProjectID, "refused"); coffer.ErrorCode(err) != coffer.EUNAVAILABLE {
		t.Fatalf("a protection key under the old root key: err = %v, want %s", err, coffer.EUNAVAILABLE)
	}
	// The node heard of the rotation through the store's notifications.
	waitFor(t, "the node's warning", func() bool { return strings.Contains(logs.String(), "root key of the store was rotated") })
	n.Stop(t)
	again := nodetest.Start(t, nodetest.WithDataDir(n.DataDir, keyText(t, newFile)), nodetest.WithStore(n.Store))
	if got, err := read(as(t, again), again, id, coffer.Latest); err != nil || got != "still written" {
		t.Fatalf("read after restart with the new key: %q, %v", got, err)
	}
}

// lockedBuffer is a buffer a logger writes to while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
