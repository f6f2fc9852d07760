package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

const testPassphrase = "correct horse battery staple"

// runCLI runs a coffer client command in this process with the given
// environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// vault is a Vault KV v2 client of one server.
type vault struct {
	addr, token string
	http        *http.Client
}

func (v *vault) put(path, value string) error {
	body := fmt.Sprintf(`{"data":{"v":%q}}`, value)
	req, err := http.NewRequest("POST", "http://"+v.addr+"/v1/secret/data/"+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Vault-Token", v.token)
	resp, err := v.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("put %s: %d %s", path, resp.StatusCode, b)
	}
	return nil
}

func (v *vault) get(path string) (string, error) {
	req, err := http.NewRequest("GET", "http://"+v.addr+"/v1/secret/data/"+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-Vault-Token", v.token)
	resp, err := v.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("get %s: %d %s", path, resp.StatusCode, b)
	}
	var out struct {
		Data struct {
			Data map[string]string `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", err
	}
	return out.Data.Data["v"], nil
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackupUnderLoad backs up a real coffer process while clients write
// secrets through the Vault API, restores the backup into a new data
// directory (or database), starts a node on it with the original root key,
// and finds there every write acknowledged before the backup began, with
// its value, and an audit chain that verifies. A second restore into the
// same target, a wrong passphrase, a truncated and a damaged file are
// refused with nothing written.
func TestBackupUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	t.Run("sqlite", func(t *testing.T) { testBackupUnderLoad(t, "", "") })
	t.Run("root key", testBackupUnderRootKey)
	t.Run("postgres", func(t *testing.T) {
		pgtest.Require(t)
		testBackupUnderLoad(t, pgtest.NewSchema(t), pgtest.NewSchema(t))
	})
	// The dump is logical: a backup of one backend restores into the
	// other (the other way, internal/node's TestRestoreRefusesATarget on
	// PostgreSQL restores into SQLite).
	t.Run("sqlite to postgres", func(t *testing.T) {
		pgtest.Require(t)
		testBackupUnderLoad(t, "", pgtest.NewSchema(t))
	})
}

func testBackupUnderLoad(t *testing.T, srcStore, dstStore string) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	addr := freeAddr(t)
	var extra []string
	if srcStore != "" {
		extra = []string{"--store", srcStore}
	}
	startServer(t, src, addr, extra...)
	v := &vault{addr: addr, token: readAdminCreds(t, src).SecretKey, http: &http.Client{Timeout: 30 * time.Second}}

	// Writers write new secrets, and new versions of a few, until told to
	// stop; acked holds the last value acknowledged for each path.
	var (
		mu    sync.Mutex
		acked = map[string]string{}
		stop  atomic.Bool
		wg    sync.WaitGroup
		n     atomic.Int64
	)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				path := fmt.Sprintf("load/w%d/s%d", g, i%40)
				value := fmt.Sprintf("value-%d-%d", g, i)
				if err := v.put(path, value); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				mu.Lock()
				acked[path] = value
				mu.Unlock()
				n.Add(1)
			}
		}()
	}
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	for n.Load() < 100 && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}

	env := map[string]string{"COFFER_ADDR": "http://" + addr, "COFFER_BACKUP_PASSPHRASE": testPassphrase}
	file := filepath.Join(dir, "coffer.backup")
	mu.Lock()
	before := make(map[string]string, len(acked))
	for k, val := range acked {
		before[k] = val
	}
	mu.Unlock()
	written := n.Load()
	code, out, errOut := runCLI(t, env, "backup", "--data-dir", src, "--out", file)
	if code != 0 {
		t.Fatalf("coffer backup: %d %s %s", code, out, errOut)
	}
	// The writers went on during the backup.
	for n.Load() < written+20 && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%s; %d writes during the test", strings.TrimSpace(out), n.Load())
	if code, _, _ := runCLI(t, env, "backup", "--data-dir", src, "--out", file); code == 0 {
		t.Fatal("a second backup overwrote the file")
	}

	// The backup holds ciphertexts under the passphrase: no value, no
	// name in the clear.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"value-0-", "load/w0", "sqlite", "audit"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("the backup file holds %q in the clear", s)
		}
	}

	// Restore, and the refusals: each writes nothing.
	dst := filepath.Join(dir, "dst")
	target := []string{"--data-dir", dst}
	if dstStore != "" {
		target = []string{"--store", dstStore}
	}
	restore := func(env map[string]string, file string) (int, string) {
		code, out, errOut := runCLI(t, env, append([]string{"restore", "--in", file}, target...)...)
		return code, out + errOut
	}
	unchanged := func(what string) {
		t.Helper()
		if dstStore == "" {
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Fatalf("%s: the data directory was created (%v)", what, err)
			}
		}
	}
	wrong := map[string]string{"COFFER_BACKUP_PASSPHRASE": "not the passphrase at all"}
	if code, msg := restore(wrong, file); code == 0 || !strings.Contains(msg, "wrong passphrase") {
		t.Fatalf("restore with a wrong passphrase: %d %s", code, msg)
	}
	unchanged("a wrong passphrase")
	truncated := filepath.Join(dir, "truncated")
	if err := os.WriteFile(truncated, raw[:len(raw)-100], 0o600); err != nil {
		t.Fatal(err)
	}
	if code, msg := restore(env, truncated); code == 0 || !strings.Contains(msg, "damaged") {
		t.Fatalf("restore of a truncated file: %d %s", code, msg)
	}
	unchanged("a truncated file")
	damaged := filepath.Join(dir, "damaged")
	bad := bytes.Clone(raw)
	bad[len(bad)/2] ^= 1
	if err := os.WriteFile(damaged, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, msg := restore(env, damaged); code == 0 || !strings.Contains(msg, "damaged") {
		t.Fatalf("restore of a damaged file: %d %s", code, msg)
	}
	unchanged("a damaged file")

	if code, msg := restore(env, file); code != 0 {
		t.Fatalf("coffer restore: %d %s", code, msg)
	}
	if code, msg := restore(env, file); code == 0 || !strings.Contains(msg, "not empty") {
		t.Fatalf("a second restore into the same target: %d %s", code, msg)
	}

	// The restored node, with the original root key, serves every write
	// acknowledged before the backup, with its value.
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(src, "root.key"), filepath.Join(dst, "root.key"))
	copyFile(t, filepath.Join(src, "admin-credentials.json"), filepath.Join(dst, "admin-credentials.json"))
	addr2 := freeAddr(t)
	extra = nil
	if dstStore != "" {
		extra = []string{"--store", dstStore}
	}
	startServer(t, dst, addr2, extra...)
	v2 := &vault{addr: addr2, token: v.token, http: v.http}
	for path, want := range before {
		got, err := v2.get(path)
		if err != nil {
			t.Fatalf("restored: %v", err)
		}
		// A later write of the same path may be in the snapshot too:
		// the path's writer wrote it after the acknowledged one.
		if got != want && later(got, want) <= 0 {
			t.Fatalf("restored %s = %q, want %q or a later value", path, got, want)
		}
	}
	env2 := map[string]string{"COFFER_ADDR": "http://" + addr2}
	if code, out, errOut := runCLI(t, env2, "audit", "verify", "--data-dir", dst); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify on the restored node: %d %s %s", code, out, errOut)
	}
	// The source recorded the backup.
	if code, out, errOut := runCLI(t, env, "audit", "query", "--data-dir", src, "--action", "POST /coffer/v1/backup", "--json"); code != 0 || !strings.Contains(out, `"status": 200`) {
		t.Fatalf("the backup's audit record: %d %s %s", code, out, errOut)
	}
}

// later compares two values value-G-I of one writer by I; a value not of
// that form compares as older than any.
func later(a, b string) int {
	var ga, ia, gb, ib int
	if n, _ := fmt.Sscanf(a, "value-%d-%d", &ga, &ia); n != 2 {
		return -1
	}
	if n, _ := fmt.Sscanf(b, "value-%d-%d", &gb, &ib); n != 2 {
		return 1
	}
	return ia - ib
}

// testBackupUnderRootKey backs up under the root key, with no passphrase,
// and restores into a data directory where the root key was put first; a
// file under another root key is refused.
func testBackupUnderRootKey(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	addr := freeAddr(t)
	startServer(t, src, addr)
	v := &vault{addr: addr, token: readAdminCreds(t, src).SecretKey, http: &http.Client{Timeout: 30 * time.Second}}
	if err := v.put("rk/one", "value-0-1"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"COFFER_ADDR": "http://" + addr}
	file := filepath.Join(dir, "rk.backup")
	if code, out, errOut := runCLI(t, env, "backup", "--root-key", "--data-dir", src, "--out", file); code != 0 {
		t.Fatalf("coffer backup --root-key: %d %s %s", code, out, errOut)
	}

	// Another root key: refused, nothing written.
	other := filepath.Join(dir, "other")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	otherKey := map[string]string{"COFFER_ROOT_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
	if code, out, errOut := runCLI(t, otherKey, "restore", "--root-key", "--in", file, "--data-dir", other); code == 0 || !strings.Contains(out+errOut, "wrong passphrase or key") {
		t.Fatalf("restore under another root key: %d %s %s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Fatalf("a refused restore wrote %d entries", len(entries))
	}

	dst := filepath.Join(dir, "dst")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(src, "root.key"), filepath.Join(dst, "root.key"))
	if code, out, errOut := runCLI(t, nil, "restore", "--root-key", "--in", file, "--data-dir", dst); code != 0 {
		t.Fatalf("coffer restore --root-key: %d %s %s", code, out, errOut)
	}
	addr2 := freeAddr(t)
	startServer(t, dst, addr2)
	if got, err := (&vault{addr: addr2, token: v.token, http: v.http}).get("rk/one"); err != nil || got != "value-0-1" {
		t.Fatalf("restored: %q %v", got, err)
	}
}
