package node_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/backup"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// postBackup asks a node for a dump with a secret key ("" for none).
func postBackup(t *testing.T, n *nodetest.Node, secretKey string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", n.URL+"/coffer/v1/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	if secretKey != "" {
		req.Header.Set("Authorization", "Bearer "+secretKey)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), b
}

// TestBackupRoute: an operator gets a whole dump holding no plaintext, and
// the request's record; an admin of another organization, an application
// with every permission set and a caller without credentials are refused,
// each with its record too.
func TestBackupRoute(t *testing.T) {
	n := nodetest.Start(t)
	admin := as(t, n)
	value := "plaintext-" + marker(t)
	sec, err := n.Engine.CreateSecret(admin, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Name: "db", Path: "/", Type: coffer.TypeOpaque})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Engine.CreateVersion(admin, sec.ID, coffer.VersionCreate{Data: []byte(value)}); err != nil {
		t.Fatal(err)
	}

	status, ct, body := postBackup(t, n, n.Creds.SecretKey)
	if status != http.StatusOK || ct != "application/vnd.coffer.dump" {
		t.Fatalf("backup: %d %s %.200s", status, ct, body)
	}
	if bytes.Contains(body, []byte(value)) {
		t.Fatal("the dump holds a secret's plaintext")
	}
	d, err := backup.NewDumpReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(); err != nil {
		t.Fatalf("the dump does not check out: %v", err)
	}
	if _, rows := d.Counts(); rows == 0 {
		t.Fatal("the dump has no rows")
	}

	other, err := n.Engine.CreateOrganization(admin, "other")
	if err != nil {
		t.Fatal(err)
	}
	everything := grant(t, n, admin, "", "/", coffer.SecretManagerFullAccess, coffer.IAMManager, coffer.AuditReader, coffer.KeyManager)
	for _, c := range []struct{ name, key string }{
		{"another organization's admin", other.SecretKey}, {"an application", everything.key.SecretKey},
	} {
		name, key := c.name, c.key
		if status, _, body := postBackup(t, n, key); status != http.StatusForbidden {
			t.Fatalf("%s: %d %s, want 403", name, status, body)
		}
	}
	if status, _, _ := postBackup(t, n, ""); status != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d, want 401", status)
	}

	page, err := n.Engine.ListAudit(admin, coffer.AuditQuery{Action: "POST /coffer/v1/backup"})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, r := range page.Records {
		got = append(got, r.Status)
	}
	// The other organization's refusal is in its own organization's
	// trail, which this operator's listing leaves out.
	if len(got) != 3 || got[0] != 200 || got[1] != 403 || got[2] != 401 {
		t.Fatalf("the backup's records have statuses %v, want [200 403 401]", got)
	}
}

// TestRestoreRefusesATarget: a data directory that holds anything but the
// root key, or a database that holds data, is refused before anything is
// written.
func TestRestoreRefusesATarget(t *testing.T) {
	n := nodetest.Start(t)
	_, _, body := postBackup(t, n, n.Creds.SecretKey)
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	ctx := context.Background()

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Restore(ctx, node.RestoreConfig{DataDir: dir}, open); !errors.Is(err, node.ErrRestoreTarget) {
		t.Fatalf("restore into a directory with a file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the refused restore left %d entries", len(entries))
	}

	// Only the root key: allowed.
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, node.RootKeyFile), []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := node.Restore(ctx, node.RestoreConfig{DataDir: dir}, open)
	if err != nil {
		t.Fatalf("restore beside the root key: %v", err)
	}
	if h.Schema < 1 || h.Backend == "" {
		t.Fatalf("header %+v", h)
	}
	if _, err := os.Stat(filepath.Join(dir, node.DatabaseFile)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".restore-") {
			t.Fatalf("the restore left %s behind", e.Name())
		}
	}

	// A dump cut short is refused, the directory left absent.
	short := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body[:len(body)-1])), nil }
	absent := filepath.Join(t.TempDir(), "new")
	if _, err := node.Restore(ctx, node.RestoreConfig{DataDir: absent}, short); err == nil {
		t.Fatal("a dump cut short was restored")
	}
	if _, err := os.Stat(absent); !os.IsNotExist(err) {
		t.Fatalf("the refused restore created the directory: %v", err)
	}

	// A dump of another schema version passes the first read, and is
	// refused by the load: the directory it created is gone.
	var other bytes.Buffer
	dw := backup.NewDumpWriter(&other)
	if err := dw.Begin("sqlite", 999); err != nil {
		t.Fatal(err)
	}
	if err := dw.End(); err != nil {
		t.Fatal(err)
	}
	newer := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(other.Bytes())), nil }
	if _, err := node.Restore(ctx, node.RestoreConfig{DataDir: absent}, newer); err == nil || !strings.Contains(err.Error(), "schema version 999") {
		t.Fatalf("a dump of schema 999: %v", err)
	}
	if _, err := os.Stat(absent); !os.IsNotExist(err) {
		t.Fatalf("the refused restore left the directory: %v", err)
	}
}
