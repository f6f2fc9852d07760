package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer/internal/adminapi"
	"github.com/coffer-dev/coffer/internal/exportfile"
)

// transferTimeout bounds an export or an import: the server answers once
// the whole file is made or read.
const transferTimeout = 10 * time.Minute

// minPassphrase is the shortest passphrase an export accepts.
const minPassphrase = 12

func cmdExportKey(ctx context.Context, e *env, args []string) error {
	f := e.flags("export-key", "", `
Print this instance's export key: the X25519 public key that another
instance's "coffer export --recipient" encrypts a file to, so that only this
instance can import it. The private key never leaves the server, sealed
under its root key; every node sharing the store has the same key.`, true)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	var out adminapi.ExportKeyResponse
	if err := a.call(ctx, http.MethodGet, "/export-key", nil, &out); err != nil {
		return callError("export key", err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, out)
	}
	_, err = fmt.Fprintln(e.stdout, clean(out.PublicKey))
	return err
}

// passphraseFlags are the two ways to give a passphrase: never a flag's
// value, which other users of the machine may read.
type passphraseFlags struct {
	file, env *string
}

func (f *flagSet) passphraseFlags() passphraseFlags {
	return passphraseFlags{
		file: f.String("passphrase-file", "", "read the passphrase from this file (mode 0600; its content without a final line ending)"),
		env:  f.String("passphrase-env", "", "read the passphrase from this environment variable"),
	}
}

// read returns the passphrase, or nil when neither flag is set.
func (p passphraseFlags) read(f *flagSet, e *env) ([]byte, error) {
	switch {
	case *p.file != "" && *p.env != "":
		return nil, f.usageErrorf("give --passphrase-file or --passphrase-env, not both")
	case *p.file == "" && *p.env == "":
		return nil, nil
	}
	pass, err := passphrase(*p.file, *p.env, e.getenv)
	switch {
	case err != nil:
		return nil, err
	case pass == nil && *p.env != "":
		return nil, fmt.Errorf("the environment variable %s is empty or unset", *p.env)
	case len(pass) == 0:
		return nil, errors.New("the passphrase is empty")
	}
	return pass, nil
}

func cmdExport(ctx context.Context, e *env, args []string) error {
	f := e.flags("export", "[--project ID] [--path PREFIX] (--recipient KEY | --passphrase-file FILE | --passphrase-env VAR) --out FILE", `
Export secrets, with every version, state, stage, metadata, tag and policy,
into a file encrypted to one recipient: another instance's export key
("coffer export-key" there), which only that instance can open, or a
passphrase (Argon2id; at least 12 characters, never given on the command
line). The server encrypts: values never leave it in clear. You need the
right to read the values of every secret selected. Without --project, every
project you may read is exported; destroyed versions are kept as such, with
no value. The file is written with mode 0600 and never overwritten.`, true)
	var (
		project   = f.String("project", "", "export this project only (an id)")
		path      = f.String("path", "", "export the secrets at this path or below it, such as /prod")
		recipient = f.String("recipient", "", "the export key of the instance that will import the file (x25519:...)")
		out       = f.String("out", "", "the file to write")
		pf        = f.passphraseFlags()
	)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	if *out == "" {
		return f.usageErrorf("--out is required")
	}
	pass, err := pf.read(f, e)
	if err != nil {
		return err
	}
	defer clear(pass)
	req := adminapi.ExportRequest{ProjectID: *project, PathPrefix: *path, Recipient: *recipient}
	switch {
	case pass == nil && *recipient == "":
		return f.usageErrorf("give a recipient: --recipient, --passphrase-file or --passphrase-env")
	case pass != nil && *recipient != "":
		return f.usageErrorf("give one recipient: --recipient or a passphrase, not both")
	case pass != nil:
		if len(pass) < minPassphrase {
			return fmt.Errorf("the passphrase is shorter than %d characters", minPassphrase)
		}
		k, err := exportfile.NewPassphrase(pass, exportfile.DefaultKDF)
		if err != nil {
			return err
		}
		defer k.Wipe()
		req.Passphrase = &adminapi.ExportPassphrase{Key: k.Key, Salt: k.Salt, Time: k.KDF.Time, Memory: k.KDF.Memory, Threads: k.KDF.Threads}
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("%s exists: coffer export never overwrites a file", *out)
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := a.transfer(ctx, http.MethodPost, "/export", bytes.NewReader(body), "application/json", nil)
	clear(body)
	if err != nil {
		return callError("export", err)
	}
	defer resp.Body.Close()
	file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(file, resp.Body); err != nil {
		file.Close()
		os.Remove(*out)
		return &transportError{addr: a.cfg.addr, err: err}
	}
	if err := file.Sync(); err != nil {
		file.Close()
		os.Remove(*out)
		return err
	}
	if err := file.Close(); err != nil {
		os.Remove(*out)
		return err
	}
	secrets, _ := strconv.Atoi(resp.Header.Get(adminapi.ExportSecretsHeader))
	versions, _ := strconv.Atoi(resp.Header.Get(adminapi.ExportVersionsHeader))
	if *f.jsonOut {
		return printJSON(e.stdout, map[string]any{"file": *out, "secrets": secrets, "versions": versions})
	}
	_, err = fmt.Fprintf(e.stdout, "exported %d secrets, %d versions to %s\n", secrets, versions, *out)
	return err
}

func cmdImport(ctx context.Context, e *env, args []string) error {
	f := e.flags("import", "FILE [--project ID] [--new-ids] [--on-conflict fail|skip|overwrite] [--passphrase-file FILE | --passphrase-env VAR]", `
Import an export file: its secrets are written with their ids, revisions,
states, stages and policies, each value sealed anew under this instance's
keys. Each secret goes to the project of the same name as its project on
the exporting instance, or to --project. A secret whose id or path is taken
here by a secret with other content is a conflict: by default the import is
refused before anything is written; --on-conflict skip leaves those secrets
as they are, overwrite replaces them (never a protected one). A secret
already here as in the file is left alone: importing a file twice changes
nothing the second time. --new-ids gives every secret a new id. A file
encrypted to a passphrase needs --passphrase-file or --passphrase-env; one
encrypted to this instance's export key needs nothing.`, true)
	var (
		project  = f.String("project", "", "import every secret into this project (an id)")
		newIDs   = f.Bool("new-ids", false, "give every secret a new id")
		conflict = f.String("on-conflict", "fail", "what to do with a secret that conflicts: fail, skip or overwrite")
		pf       = f.passphraseFlags()
	)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return f.usageErrorf("want one FILE")
	}
	switch *conflict {
	case "fail", "skip", "overwrite":
	default:
		return f.usageErrorf("--on-conflict must be fail, skip or overwrite")
	}
	file, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	if st.Size() > adminapi.MaxImportSize {
		return fmt.Errorf("%s is larger than %d bytes, the most a server imports at once", pos[0], adminapi.MaxImportSize)
	}
	h, err := exportfile.ReadHeader(file)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	header := http.Header{}
	if h.Kind == exportfile.KindPassphrase {
		pass, err := pf.read(f, e)
		if err != nil {
			return err
		}
		if pass == nil {
			return f.usageErrorf("%s is encrypted to a passphrase: give --passphrase-file or --passphrase-env", pos[0])
		}
		k, err := exportfile.DerivePassphrase(pass, h.Salt, h.KDF)
		clear(pass)
		if err != nil {
			return err
		}
		defer k.Wipe()
		header.Set(adminapi.PassphraseKeyHeader, base64.StdEncoding.EncodeToString(k.Key))
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	q := url.Values{"on_conflict": {*conflict}}
	if *project != "" {
		q.Set("project_id", *project)
	}
	if *newIDs {
		q.Set("new_ids", "true")
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	resp, err := a.transfer(ctx, http.MethodPost, "/import?"+q.Encode(), file, "application/octet-stream", header)
	if err != nil {
		return callError("import "+pos[0], err)
	}
	defer resp.Body.Close()
	var res adminapi.ImportResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res); err != nil {
		return &transportError{addr: a.cfg.addr, err: err}
	}
	if *f.jsonOut {
		return printJSON(e.stdout, res)
	}
	_, err = fmt.Fprintf(e.stdout, "imported %d secrets: %d created, %d unchanged, %d skipped, %d overwritten; %d versions written\n",
		res.Secrets, res.Created, res.Unchanged, res.Skipped, res.Overwritten, res.Versions)
	return err
}

// transfer sends a request whose body or answer is an export file, and
// returns the answer of a success for its caller to read and close.
func (a *admin) transfer(ctx context.Context, method, path string, body io.Reader, contentType string, header http.Header) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, transferTimeout)
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.addr+"/coffer/v1"+path, body)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.secretKey)
	req.Header.Set("Content-Type", contentType)
	client := *a.http
	client.Timeout = 0 // the context bounds the whole transfer
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, &transportError{addr: a.cfg.addr, err: err}
	}
	if resp.StatusCode >= 300 {
		defer cancel()
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			return nil, &apiError{Status: resp.StatusCode, Message: "unexpected answer " + clean(resp.Status) + " from " + a.cfg.addr}
		}
		return nil, &apiError{Status: resp.StatusCode, Message: clean(e.Error.Message)}
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends a transfer's context when its answer is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
