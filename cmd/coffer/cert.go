package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

const certUsage = `Usage: coffer cert COMMAND [flags]

Commands:
  issue    issue a client certificate for mutual TLS (written to files)
  revoke   revoke a client certificate at once
  ca       print the CA certificate that signs client certificates

A client certificate authenticates its principal on every API, on the TLS
listener (coffer serve --tls-listen), limited to one project. It carries the
SAN otherName okms.domain:<project> that OVHcloud's okms CLI reads.
`

// admin calls coffer's admin API with the configured token.
type admin struct {
	cfg  *config
	http *http.Client
}

func (e *env) admin(dataDir string) (*admin, error) {
	c, err := loadConfig(e.getenv, dataDir)
	if err != nil {
		return nil, err
	}
	return &admin{cfg: c, http: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// call sends a request and decodes a JSON answer into out, if any.
func (a *admin) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.addr+"/coffer/v1"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.secretKey)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return &transportError{addr: a.cfg.addr, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &transportError{addr: a.cfg.addr, err: err}
	}
	defer clear(b)
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			return &apiError{Status: resp.StatusCode, Message: "unexpected answer " + clean(resp.Status) + " from " + a.cfg.addr}
		}
		return &apiError{Status: resp.StatusCode, Message: clean(e.Error.Message)}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func cmdCertIssue(ctx context.Context, e *env, args []string) error {
	f := e.flags("cert issue", "[--project ID] [--principal ID] [--ttl 8760h] [--cert FILE] [--key FILE] [--ca FILE]", `
Issue a client certificate for mutual TLS. It authenticates the principal
(yours by default) on one project. The private key is written to --key with
mode 0600 and is never stored by the server: keep it safe.`, false)
	var (
		project   = f.String("project", "", "the project the certificate may act on (default: COFFER_PROJECT)")
		principal = f.String("principal", "", "the principal it authenticates (default: yours)")
		ttl       = f.String("ttl", "8760h", "how long it is valid")
		certOut   = f.String("cert", "client.crt", "file to write the certificate to")
		keyOut    = f.String("key", "client.key", "file to write the private key to (mode 0600)")
		caOut     = f.String("ca", "", "file to write the CA certificate to (optional)")
	)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	for _, p := range []string{*certOut, *keyOut} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists: coffer cert issue never overwrites a file", p)
		}
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	if *project == "" {
		*project = a.cfg.project
	}
	if *project == "" {
		return f.usageErrorf("--project is required (or set COFFER_PROJECT)")
	}
	var out struct {
		Serial        string    `json:"serial"`
		NotAfter      time.Time `json:"not_after"`
		Certificate   string    `json:"certificate"`
		PrivateKey    string    `json:"private_key"`
		CACertificate string    `json:"ca_certificate"`
	}
	err = a.call(ctx, http.MethodPost, "/certificates", map[string]string{
		"principal_id": *principal, "project_id": *project, "ttl": *ttl,
	}, &out)
	if err != nil {
		return callError("issue certificate", err)
	}
	key := []byte(out.PrivateKey)
	defer clear(key)
	if err := writeNew(*keyOut, key, 0o600); err != nil {
		return err
	}
	if err := writeNew(*certOut, []byte(out.Certificate), 0o644); err != nil {
		return err
	}
	if *caOut != "" {
		if err := os.WriteFile(*caOut, []byte(out.CACertificate), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "serial       %s\nvalid until  %s\ncertificate  %s\nkey          %s\n",
		out.Serial, out.NotAfter.UTC().Format(time.RFC3339), *certOut, *keyOut)
	return nil
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cmdCertRevoke(ctx context.Context, e *env, args []string) error {
	f := e.flags("cert revoke", "SERIAL", "Revoke a client certificate; it stops working at once.", false)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return f.usageErrorf("coffer cert revoke takes one SERIAL")
	}
	a, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	if err := a.call(ctx, http.MethodDelete, "/certificates/"+url.PathEscape(pos[0]), nil, nil); err != nil {
		return callError("revoke certificate", err)
	}
	fmt.Fprintf(e.stdout, "revoked %s\n", pos[0])
	return nil
}

func cmdCertCA(ctx context.Context, e *env, args []string) error {
	f := e.flags("cert ca", "", "Print the CA certificate that signs client certificates.", false)
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
	var out struct {
		Certificate string `json:"certificate"`
	}
	if err := a.call(ctx, http.MethodGet, "/ca", nil, &out); err != nil {
		return callError("read CA", err)
	}
	_, err = io.WriteString(e.stdout, out.Certificate)
	return err
}
