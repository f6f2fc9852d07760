package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/coffer-dev/coffer/internal/adminapi"
	"github.com/coffer-dev/coffer/internal/backup"
	"github.com/coffer-dev/coffer/internal/node"
)

// passphraseEnv names the environment variable of a backup's passphrase.
const passphraseEnv = "COFFER_BACKUP_PASSPHRASE"

// cmdBackup takes an online backup of a running node: the node streams a
// consistent dump of its store over the authenticated API, and this command
// encrypts it as it arrives, so that the passphrase never leaves this
// machine.
func cmdBackup(ctx context.Context, e *env, args []string) error {
	f := e.flags("backup", "--out FILE [--passphrase-file FILE | --root-key]", `
Take an online, consistent backup of a running node into FILE: the node
streams a snapshot of every row of its store, as stored (sealed data and
wrapped keys, never a plaintext), and this command encrypts it with
AES-256-GCM under a key derived from the passphrase (Argon2id), in
authenticated chunks. The passphrase comes from --passphrase-file or
$`+passphraseEnv+` (at least 12 bytes), never from a flag's value.

With --root-key the file is encrypted under a random key wrapped by the
root key instead (COFFER_ROOT_KEY, else root.key in the data directory):
no passphrase to keep, but the file is only as safe as the root key, and
restores only where the root key is given.

The node keeps serving meanwhile. FILE is written only once the whole
snapshot arrived and checked out; it is never overwritten. Restoring it
needs the passphrase, and the restored node needs the original root key.
The caller must be an admin of the system organization (the credentials
of the first start are).`, false)
	out := f.String("out", "", "the backup file to write (must not exist)")
	passFile := f.String("passphrase-file", "", "a file holding the passphrase (default: $"+passphraseEnv+")")
	rootKey := f.Bool("root-key", false, "encrypt under the root key instead of a passphrase")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	if *out == "" {
		return f.usageErrorf("--out FILE is required")
	}
	secret, done, err := backupSecret(e, f, *passFile, *rootKey, dataDirOf(e, *f.dataDir))
	if err != nil {
		return err
	}
	defer done()
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("%s exists: coffer backup never overwrites a file", *out)
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	start := time.Now()
	h, tables, rows, size, err := a.backup(ctx, *out, secret)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Backed up %d tables, %d rows (%s store, schema %d, snapshot of %s) to %s: %d bytes in %s.\n",
		tables, rows, h.Backend, h.Schema, h.Created.Format(time.RFC3339), *out, size, time.Since(start).Round(time.Millisecond))
	return nil
}

// backup streams the node's dump into the encrypted file out.
func (a *admin) backup(ctx context.Context, out string, secret backup.Secret) (h backup.Header, tables, rows uint64, size int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.addr+"/coffer/v1/backup", nil)
	if err != nil {
		return h, 0, 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.secretKey)
	// A backup lasts as long as the store is large: no overall timeout,
	// but the server must start answering, and each of its writes is
	// bounded on its side.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	hc := &http.Client{Transport: tr, CheckRedirect: a.http.CheckRedirect}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		return h, 0, 0, 0, &transportError{addr: a.cfg.addr, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			return h, 0, 0, 0, &apiError{Status: resp.StatusCode, Message: "unexpected answer " + clean(resp.Status) + " from " + a.cfg.addr}
		}
		return h, 0, 0, 0, callError("back up", &apiError{Status: resp.StatusCode, Message: clean(e.Error.Message)})
	}
	if ct := resp.Header.Get("Content-Type"); ct != adminapi.BackupContentType {
		return h, 0, 0, 0, fmt.Errorf("back up: the server answered with %q, not a dump: is it a coffer server of this version?", clean(ct))
	}

	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return h, 0, 0, 0, err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return h, 0, 0, 0, err
	}
	w, err := backup.NewWriter(tmp, secret)
	if err != nil {
		return h, 0, 0, 0, err
	}
	// The dump is encrypted as it arrives, and read as it is: only a dump
	// that reached its end, counts and checksum right, is kept.
	d, err := backup.NewDumpReader(io.TeeReader(resp.Body, w))
	if err != nil {
		return h, 0, 0, 0, fmt.Errorf("back up: %w", err)
	}
	if err := d.Verify(); err != nil {
		return h, 0, 0, 0, fmt.Errorf("back up: the snapshot did not arrive whole: %w", err)
	}
	if err := w.Close(); err != nil {
		return h, 0, 0, 0, err
	}
	if err := tmp.Sync(); err != nil {
		return h, 0, 0, 0, err
	}
	if err := tmp.Close(); err != nil {
		return h, 0, 0, 0, err
	}
	// A link fails where a file appeared meanwhile: nothing is overwritten.
	if err := os.Link(tmp.Name(), out); err != nil {
		return h, 0, 0, 0, err
	}
	if dir, err := os.Open(filepath.Dir(out)); err == nil {
		_ = dir.Sync() // the new entry survives a crash
		dir.Close()
	}
	tables, rows = d.Counts()
	return d.Header(), tables, rows, w.Size(), nil
}

// cmdRestore restores a backup file into an absent or empty data
// directory, or an empty PostgreSQL database.
func cmdRestore(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("coffer restore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	f := &flagSet{FlagSet: fs, name: "restore", synopsis: "--in FILE (--data-dir DIR | --store URL) [--passphrase-file FILE | --root-key]", help: `
Restore a backup made by coffer backup into DIR, which must not exist or
be empty (but for the root key file), as the data directory of a SQLite
node; or, with --store, into an empty PostgreSQL database. The whole file
is checked (passphrase, chunks, checksum) before anything is written, and
the restore is one transaction: a wrong passphrase, a damaged or truncated
file, or a target that holds data, leave the target as it was.

The passphrase comes from --passphrase-file or $` + passphraseEnv + `;
a file made with --root-key needs --root-key here, and the root key in
COFFER_ROOT_KEY or as ` + node.RootKeyFile + ` put in DIR beforehand. The restored node starts with the original root key, given as before:
COFFER_ROOT_KEY, or its ` + node.RootKeyFile + ` copied into DIR.`}
	in := fs.String("in", "", "the backup file to restore")
	dataDir := fs.String("data-dir", "", "the data directory to restore a SQLite store into (absent or empty)")
	store := fs.String("store", "", "the postgres:// URL of an empty database to restore into instead")
	passFile := fs.String("passphrase-file", "", "a file holding the passphrase (default: $"+passphraseEnv+")")
	rootKey := fs.Bool("root-key", false, "the file was encrypted under the root key")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return f.usageErrorf("unexpected argument %q", pos[0])
	case *in == "":
		return f.usageErrorf("--in FILE is required")
	case (*dataDir == "") == (*store == ""):
		return f.usageErrorf("give one of --data-dir DIR and --store URL")
	case *store != "" && !node.IsPostgres(*store):
		return f.usageErrorf("--store must be a postgres:// or postgresql:// URL")
	}
	secret, done, err := backupSecret(e, f, *passFile, *rootKey, *dataDir)
	if err != nil {
		return err
	}
	defer done()
	// The passphrase is checked before anything else.
	if err := checkBackupKey(*in, secret); err != nil {
		return err
	}
	open := func() (io.ReadCloser, error) { return openBackup(*in, secret) }
	h, err := node.Restore(ctx, node.RestoreConfig{DataDir: *dataDir, Store: *store}, open)
	if err != nil {
		return err
	}
	where := *dataDir
	if *store != "" {
		where = "the PostgreSQL database"
	}
	fmt.Fprintf(e.stdout, "Restored the backup of a %s store (schema %d, snapshot of %s) into %s.\n"+
		"Start the node with its original root key (COFFER_ROOT_KEY, or %s in the data directory).\n",
		h.Backend, h.Schema, h.Created.Format(time.RFC3339), where, node.RootKeyFile)
	return nil
}

// backupSecret returns the key material of a backup file: the root key
// with rootKey (from COFFER_ROOT_KEY, else dataDir's key file), else the
// passphrase. done releases it.
func backupSecret(e *env, f *flagSet, passFile string, rootKey bool, dataDir string) (backup.Secret, func(), error) {
	if rootKey {
		if passFile != "" {
			return backup.Secret{}, nil, f.usageErrorf("give --passphrase-file or --root-key, not both")
		}
		if dataDir == "" && e.getenv("COFFER_ROOT_KEY") == "" {
			return backup.Secret{}, nil, f.usageErrorf("--root-key needs COFFER_ROOT_KEY, or --data-dir DIR holding %s", node.RootKeyFile)
		}
		root, err := node.LoadRootKey(dataDir, e.getenv("COFFER_ROOT_KEY"))
		if err != nil {
			return backup.Secret{}, nil, err
		}
		return backup.RootKey(root), func() { _ = root.Close() }, nil
	}
	s, err := readPassphrase(e, passFile)
	if err != nil {
		return backup.Secret{}, nil, err
	}
	return s, s.Wipe, nil
}

// dataDirOf is the data directory a client command reads: --data-dir,
// else COFFER_DATA_DIR, else ./coffer-data.
func dataDirOf(e *env, flag string) string {
	if flag != "" {
		return flag
	}
	if d := e.getenv("COFFER_DATA_DIR"); d != "" {
		return d
	}
	return "coffer-data"
}

// readPassphrase reads the passphrase from file, or else from
// COFFER_BACKUP_PASSPHRASE.
func readPassphrase(e *env, file string) (backup.Secret, error) {
	p, err := passphrase(file, passphraseEnv, e.getenv)
	if err != nil {
		return backup.Secret{}, fmt.Errorf("read the passphrase: %w", err)
	}
	defer clear(p)
	if len(p) == 0 {
		return backup.Secret{}, &usageError{msg: "no passphrase: give --passphrase-file FILE or set " + passphraseEnv,
			help: "coffer backup -h"}
	}
	return backup.Passphrase(p)
}

// checkBackupKey opens the file's header with the secret.
func checkBackupKey(path string, secret backup.Secret) error {
	rc, err := openBackup(path, secret)
	if err != nil {
		return err
	}
	return rc.Close()
}

// openBackup opens a backup file and returns its decrypted content.
func openBackup(path string, secret backup.Secret) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := backup.NewReader(f, secret)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}
