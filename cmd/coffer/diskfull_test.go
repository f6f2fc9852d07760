package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDiskFull runs a real coffer process on a data directory in a small
// file system and writes until the disk is full: the write that fails is
// refused in the Vault API's own format (a 500, as Vault answers when its
// audit device cannot write), reads are refused too as their records
// cannot be written (audit or fail), and nothing acknowledged is lost. Given room again, the node serves again without a restart, and
// every acknowledged write reads back, and the chain verifies.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small file system here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	addr := freeAddr(t)
	srv := startServer(t, dir, addr)
	creds := readAdminCreds(t, dir)
	v := &vault{addr: addr, token: creds.SecretKey, http: &http.Client{Timeout: 30 * time.Second}}

	value := strings.Repeat("x", 16<<10)
	acked := map[string]string{}
	var refusal error
	for i := 0; i < 2000 && refusal == nil; i++ {
		path := fmt.Sprintf("full/s%04d", i)
		val := fmt.Sprintf("%d-%s", i, value)
		if err := v.put(path, val); err != nil {
			refusal = err
			break
		}
		acked[path] = val
	}
	if refusal == nil {
		t.Fatal("2000 writes of 16 KiB fit in 4 MiB")
	}
	// The refusal is Vault's: a 5xx with {"errors":[...]}, and says nothing
	// of the value.
	msg := refusal.Error()
	if !strings.Contains(msg, `{"errors":[`) || !strings.Contains(msg, ": 5") || strings.Contains(msg, value[:64]) {
		t.Fatalf("the write on a full disk: %v", refusal)
	}
	t.Logf("%d writes acknowledged; then %v", len(acked), refusal)
	// Reads are refused too once their records cannot be written (audit or
	// fail), in Vault's format; one that still finds room answers the
	// acknowledged value.
	refused := false
	for p, want := range acked {
		got, err := v.get(p)
		if err != nil {
			if !strings.Contains(err.Error(), `{"errors":[`) {
				t.Fatalf("read on a full disk, refused outside Vault's format: %v", err)
			}
			refused = true
			break
		}
		if got != want {
			t.Fatalf("read of %s on a full disk: %.20q", p, got)
		}
	}
	if !refused {
		t.Fatal("every read succeeded on a full disk: their records went somewhere")
	}

	// Room again: the same process serves again.
	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := v.put("full/after", "room again")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write succeeds once there is room again: %v\n%s", err, srv.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for p, want := range acked {
		if got, err := v.get(p); err != nil || got != want {
			t.Fatalf("acknowledged %s: %.20q, %v", p, got, err)
		}
	}
	var out, errOut bytes.Buffer
	env := map[string]string{"COFFER_ADDR": "http://" + addr, "COFFER_TOKEN": creds.SecretKey, "COFFER_PROJECT": creds.ProjectID}
	if code := run(context.Background(), []string{"audit", "verify"}, strings.NewReader(""), &out, &errOut,
		func(k string) string { return env[k] }); code != 0 || !strings.Contains(out.String(), "the chain is intact") {
		t.Fatalf("coffer audit verify: exit %d, %s %s", code, out.String(), errOut.String())
	}
}
