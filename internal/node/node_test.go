package node_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// as returns a context authenticated with the node's admin key.
func as(t *testing.T, n *nodetest.Node) context.Context {
	t.Helper()
	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return coffer.NewContextWithCaller(context.Background(), c)
}

func marker(t *testing.T) string {
	t.Helper()
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "plaintext-marker-" + hex.EncodeToString(b[:])
}

// write creates a secret with one version holding data, and returns its id.
func write(t *testing.T, ctx context.Context, n *nodetest.Node, name string, typ coffer.SecretType, data string) string {
	t.Helper()
	s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Name: name, Path: "/test", Type: typ})
	if err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
	if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload(data)}); err != nil {
		t.Fatalf("create version of %s: %v", name, err)
	}
	return s.ID
}

func read(ctx context.Context, n *nodetest.Node, id string, rev coffer.Revision) (string, error) {
	_, _, data, err := n.Engine.AccessVersion(ctx, id, rev)
	if err != nil {
		return "", err
	}
	return string(data), nil
}

// dirFiles returns every file of dir with its content.
func dirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNoPlaintextAtRest writes secrets and scans every byte of the data
// directory, write-ahead log included, and every value of every table of
// the store, for their values.
func TestNoPlaintextAtRest(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	opaque := marker(t)
	kvValue := marker(t)
	write(t, ctx, n, "opaque", coffer.TypeOpaque, opaque)
	write(t, ctx, n, "kv", coffer.TypeKeyValue, `{"password":"`+kvValue+`"}`)
	big := strings.Repeat(marker(t), 1500) // spills into overflow pages
	write(t, ctx, n, "big", coffer.TypeOpaque, big[:60000])

	check := func(stage string) {
		t.Helper()
		files := dirFiles(t, n.DataDir)
		if len(files) < 2 && n.Store == "" {
			t.Fatalf("%s: expected the database and its files in %s, found %d files", stage, n.DataDir, len(files))
		}
		for table, b := range n.SQL(t).Dump(t) {
			files["table "+table] = b
		}
		for path, b := range files {
			for _, m := range []string{opaque, kvValue, big[:40]} {
				if bytes.Contains(b, []byte(m)) {
					t.Errorf("%s: plaintext value found in %s", stage, path)
				}
			}
			if filepath.Base(path) != node.CredentialsFile && bytes.Contains(b, []byte(n.Creds.SecretKey)) {
				t.Errorf("%s: API secret key found in clear in %s", stage, path)
			}
		}
	}
	check("while running") // the WAL holds the recent writes
	n.Stop(t)
	check("after close")
}

// TestCiphertextMovedToAnotherRowFails copies the sealed data of one version
// onto another secret's version: opening it must fail with an integrity
// error, not return the other secret's value.
func TestCiphertextMovedToAnotherRowFails(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	a := write(t, ctx, n, "a", coffer.TypeOpaque, "value of a")
	b := write(t, ctx, n, "b", coffer.TypeOpaque, "value of b")
	// A second revision of a, to also move a ciphertext between revisions.
	if _, _, err := n.Engine.CreateVersion(ctx, a, coffer.VersionCreate{Data: coffer.Payload("a v2")}); err != nil {
		t.Fatal(err)
	}
	n.Stop(t)

	db := n.SQL(t)
	mustExec := func(q string, args ...any) {
		t.Helper()
		res, err := db.Exec(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		if k, _ := res.RowsAffected(); k != 1 {
			t.Fatalf("%s: %d rows changed, want 1", q, k)
		}
	}
	mustExec(`UPDATE versions SET data = (SELECT data FROM versions WHERE secret_id = ? AND revision = 1) WHERE secret_id = ? AND revision = 1`, a, b)
	mustExec(`UPDATE versions SET data = (SELECT data FROM versions WHERE secret_id = ? AND revision = 2) WHERE secret_id = ? AND revision = 1`, a, a)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	n2 := nodetest.Start(t, nodetest.WithDataDir(n.DataDir, n.RootKey))
	ctx = as(t, n2)
	for _, tc := range []struct {
		id  string
		rev uint32
	}{{b, 1}, {a, 1}} {
		got, err := read(ctx, n2, tc.id, coffer.RevisionN(tc.rev))
		if !errors.Is(err, envelope.ErrIntegrity) {
			t.Errorf("access %s@%d: got %q, %v; want an integrity error", tc.id, tc.rev, got, err)
		}
		if coffer.ErrorCode(err) != coffer.EINTERNAL || coffer.ErrorMessage(err) != "internal error" {
			t.Errorf("access %s@%d: the client must see only an internal error, got code %q message %q", tc.id, tc.rev, coffer.ErrorCode(err), coffer.ErrorMessage(err))
		}
	}
	if got, err := read(ctx, n2, a, coffer.RevisionN(2)); err != nil || got != "a v2" {
		t.Errorf("untouched row: got %q, %v", got, err)
	}
}

// TestRestart writes, stops, starts on the same data directory and reads
// everything back.
func TestRestart(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	want := map[string]string{}
	for _, name := range []string{"one", "two", "three"} {
		v := marker(t)
		want[write(t, ctx, n, name, coffer.TypeOpaque, v)] = v
	}
	creds := *n.Creds
	n.Stop(t)

	n2 := nodetest.Start(t, nodetest.WithDataDir(n.DataDir, n.RootKey))
	if n2.Credentials != nil {
		t.Fatalf("a restart must not bootstrap again, got new credentials")
	}
	ctx = as(t, n2)
	for id, v := range want {
		if got, err := read(ctx, n2, id, coffer.Latest); err != nil || got != v {
			t.Errorf("after restart, %s = %q, %v; want the value written", id, got, err)
		}
	}
	list, total, err := n2.Engine.ListSecrets(ctx, coffer.SecretFilter{ProjectID: creds.ProjectID})
	if err != nil || total != 3 || len(list) != 3 {
		t.Fatalf("after restart: %d secrets (total %d), %v; want 3", len(list), total, err)
	}
}

// TestWrongRootKeyRefusesAndChangesNothing starts a node on existing data
// with another key, and with no key at all.
func TestWrongRootKeyRefusesAndChangesNothing(t *testing.T) {
	n := nodetest.Start(t)
	write(t, as(t, n), n, "s", coffer.TypeOpaque, "v")
	n.Stop(t)
	before := dirFiles(t, n.DataDir)

	_, err := node.Open(context.Background(), node.Config{DataDir: n.DataDir, Store: n.Store, RootKey: nodetest.NewRootKey()})
	if !errors.Is(err, keyring.ErrWrongRootKey) {
		t.Fatalf("open with a wrong key: %v, want ErrWrongRootKey", err)
	}
	if !strings.Contains(err.Error(), "root key") {
		t.Errorf("the message must say the root key is wrong: %q", err)
	}
	_, err = node.Open(context.Background(), node.Config{DataDir: n.DataDir, Store: n.Store})
	if !errors.Is(err, node.ErrNoRootKey) {
		t.Fatalf("open without a key: %v, want ErrNoRootKey", err)
	}
	after := dirFiles(t, n.DataDir)
	if len(after) != len(before) {
		t.Errorf("files before %d, after %d", len(before), len(after))
	}
	for path, b := range before {
		if sha256.Sum256(b) != sha256.Sum256(after[path]) {
			t.Errorf("%s changed", path)
		}
	}
	// And the right key still works.
	n2 := nodetest.Start(t, nodetest.WithDataDir(n.DataDir, n.RootKey))
	_ = n2
}

// TestFirstStartFiles checks the key file and credentials written on first
// start, and that a restart without COFFER_ROOT_KEY reads the key file.
func TestFirstStartFiles(t *testing.T) {
	dir := t.TempDir()
	store := nodetest.StoreFor(t, filepath.Join(dir, "data"))
	n, err := node.Open(context.Background(), node.Config{DataDir: filepath.Join(dir, "data"), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := n.Engine.AuthenticateSecretKey(ctx, n.Credentials.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx = coffer.NewContextWithCaller(ctx, c)
	s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Credentials.ProjectID, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload("y")}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files := []string{node.RootKeyFile, node.CredentialsFile}
	if store == "" {
		files = append(files, node.DatabaseFile)
	}
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, "data", f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", f, fi.Mode().Perm())
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "data"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	creds, err := os.ReadFile(filepath.Join(dir, "data", node.CredentialsFile))
	if err != nil || !bytes.Contains(creds, []byte(`"access_key": "SCW`)) || !bytes.Contains(creds, []byte(n.Credentials.SecretKey)) {
		t.Errorf("credentials file: %v", err)
	}

	n2, err := node.Open(context.Background(), node.Config{DataDir: filepath.Join(dir, "data"), Store: store})
	if err != nil {
		t.Fatalf("restart from the key file: %v", err)
	}
	defer n2.Close(context.Background())
	c, err = n2.Engine.AuthenticateSecretKey(context.Background(), n.Credentials.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	_, _, data, err := n2.Engine.AccessVersion(coffer.NewContextWithCaller(context.Background(), c), s.ID, coffer.Latest)
	if err != nil || string(data) != "y" {
		t.Errorf("after restart: %q, %v", data, err)
	}
}

// TestProtectionKey seals a secret's versions under a user-managed key, and
// refuses a key of another project or an unknown one.
func TestProtectionKey(t *testing.T) {
	n := nodetest.Start(t)
	ctx := as(t, n)
	keyID, err := n.Engine.CreateProtectionKey(ctx, n.Creds.ProjectID, "payments")
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Name: "k", KeyID: keyID})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload("under my key")}); err != nil {
		t.Fatal(err)
	}
	if got, err := read(ctx, n, s.ID, coffer.Latest); err != nil || got != "under my key" {
		t.Fatalf("read: %q, %v", got, err)
	}
	// The ciphertext names the user-managed key, not the project default.
	db := n.SQL(t)
	var ct []byte
	if err := db.QueryRow(`SELECT data FROM versions WHERE secret_id = ?`, s.ID).Scan(&ct); err != nil {
		t.Fatal(err)
	}
	if id, _, err := envelope.ParseHeader(ct); err != nil || id != keyID {
		t.Errorf("ciphertext sealed under %q (%v), want %q", id, err, keyID)
	}
	_, err = n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Name: "u", KeyID: "0b9a8a43-4b43-4f0e-9d0e-3b1f5f0d6a11"})
	if e := coffer.AsError(err); e == nil || e.Code != coffer.ENOTFOUND || e.Resource != "key" {
		t.Errorf("unknown key: %v, want not_found on key", err)
	}
}

// TestStoreErrors checks that a store that cannot be opened fails the start
// cleanly, without a key file left behind for a database never reached.
func TestStoreErrors(t *testing.T) {
	for _, store := range []string{
		"mysql://coffer@127.0.0.1/coffer",
		"postgres://coffer@127.0.0.1:1/coffer?sslmode=disable&connect_timeout=1",
	} {
		dir := t.TempDir()
		if _, err := node.Open(context.Background(), node.Config{DataDir: dir, Store: store}); err == nil {
			t.Errorf("Open with store %q succeeded", store)
		}
		if _, err := os.Stat(filepath.Join(dir, node.RootKeyFile)); err == nil {
			t.Errorf("store %q: a root key file was created for a store that never opened", store)
		}
	}
}
