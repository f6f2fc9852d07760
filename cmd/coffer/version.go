package main

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
	"github.com/scaleway/scaleway-sdk-go/scw"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/secretref"
)

// maxValue bounds a value read from a file or standard input; the server
// has its own, lower, limit.
const maxValue = 1 << 20

// versionFlags returns the flag set of a version command, with --secret.
func (e *env) versionFlags(name, synopsis, help string, withJSON bool) (*flagSet, *string) {
	f := e.flags(name, synopsis, help, withJSON)
	return f, f.String("secret", "", "secret id or path such as /prod/db (required)")
}

// revisionArg checks a --revision flag.
func (f *flagSet) revisionArg(s string) (string, error) {
	if s == "" {
		return "", f.usageErrorf("--revision is required")
	}
	r, err := coffer.ParseRevision(s)
	if err != nil {
		return "", f.usageErrorf("invalid --revision %q: want a positive number, latest or latest_enabled", s)
	}
	return r.String(), nil
}

// printVersionOut writes a version as text or JSON.
func (f *flagSet) printVersionOut(e *env, v *secret.SecretVersion) error {
	if *f.jsonOut {
		return printJSON(e.stdout, v)
	}
	return printVersion(e.stdout, v)
}

// noArgs fails when positional arguments are left.
func (f *flagSet) noArgs(pos []string) error {
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	return nil
}

func cmdVersionCreate(ctx context.Context, e *env, args []string) error {
	f, secretFlag := e.versionFlags("version create", "--secret SECRET (--data VALUE | --file PATH | --stdin) [flags]", `
Add a version to a secret; it becomes the latest. The value is sent as is,
byte for byte (a trailing newline included). --data shows the value in the
shell history and the process list: prefer --file or --stdin.`, true)
	var (
		data        = f.String("data", "", "the value")
		file        = f.String("file", "", "read the value from this file")
		fromStdin   = f.Bool("stdin", false, "read the value from standard input")
		description = f.String("description", "", "description of the version")
		disablePrev = f.Bool("disable-previous", false, "disable the version that was the latest")
	)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if err := f.noArgs(pos); err != nil {
		return err
	}
	ref, err := f.secretArg("--secret", *secretFlag)
	if err != nil {
		return err
	}
	sources := 0
	for _, given := range []bool{f.isSet("data"), f.isSet("file"), *fromStdin} {
		if given {
			sources++
		}
	}
	if sources != 1 {
		return f.usageErrorf("give exactly one of --data, --file and --stdin")
	}
	var value []byte
	switch {
	case f.isSet("data"):
		value = []byte(*data)
	case f.isSet("file"):
		value, err = readFile(*file)
	default:
		value, err = readValue(e.stdin, "standard input")
	}
	if err != nil {
		return err
	}
	defer clear(value)
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	id, err := a.secretID(ctx, ref)
	if err != nil {
		return err
	}
	sum := crc32.ChecksumIEEE(value)
	req := &secret.CreateSecretVersionRequest{SecretID: id, Data: value, DataCrc32: &sum}
	if f.isSet("description") {
		req.Description = description
	}
	if *disablePrev {
		req.DisablePrevious = disablePrev
	}
	v, err := a.sm.CreateSecretVersion(req, scw.WithContext(ctx))
	if err != nil {
		return callError("create version of "+ref.Target(), err)
	}
	return f.printVersionOut(e, v)
}

// readFile reads a value from a file.
func readFile(path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("--file: empty path")
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read value: %w", err)
	}
	defer fh.Close()
	return readValue(fh, path)
}

// readValue reads a value of at most maxValue bytes from r.
func readValue(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxValue+1))
	if err != nil {
		clear(b)
		return nil, fmt.Errorf("read value from %s: %w", name, err)
	}
	if len(b) > maxValue {
		clear(b)
		return nil, fmt.Errorf("read value from %s: larger than %d bytes", name, maxValue)
	}
	return b, nil
}

func cmdVersionList(ctx context.Context, e *env, args []string) error {
	f, secretFlag := e.versionFlags("version list", "--secret SECRET [flags]", `
List the versions of a secret, newest first, every page.`, true)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if err := f.noArgs(pos); err != nil {
		return err
	}
	ref, err := f.secretArg("--secret", *secretFlag)
	if err != nil {
		return err
	}
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	id, err := a.secretID(ctx, ref)
	if err != nil {
		return err
	}
	resp, err := a.sm.ListSecretVersions(&secret.ListSecretVersionsRequest{SecretID: id}, scw.WithContext(ctx), scw.WithAllPages())
	if err != nil {
		return callError("list versions of "+ref.Target(), err)
	}
	if *f.jsonOut {
		if resp.Versions == nil {
			resp.Versions = []*secret.SecretVersion{}
		}
		return printJSON(e.stdout, resp.Versions)
	}
	return printVersions(e.stdout, resp.Versions)
}

func cmdVersionAccess(ctx context.Context, e *env, args []string) error {
	f, secretFlag := e.versionFlags("version access", "--secret SECRET [--revision REVISION] [flags]", `
Write the value of a version to standard output, byte for byte, with
nothing added.`, false)
	revision := f.String("revision", "latest", "revision: a number, latest or latest_enabled")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if err := f.noArgs(pos); err != nil {
		return err
	}
	ref, err := f.secretArg("--secret", *secretFlag)
	if err != nil {
		return err
	}
	if ref.Revision, err = f.revisionArg(*revision); err != nil {
		return err
	}
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	value, _, err := a.access(ctx, ref)
	if err != nil {
		return err
	}
	defer clear(value)
	_, err = e.stdout.Write(value)
	return err
}

// access returns the data of the version r names (r.Revision must be set)
// and its revision number. A path is resolved by the server.
func (a *api) access(ctx context.Context, r secretref.Ref) ([]byte, uint32, error) {
	var (
		resp *secret.AccessSecretVersionResponse
		err  error
	)
	if r.SecretID != "" {
		resp, err = a.sm.AccessSecretVersion(&secret.AccessSecretVersionRequest{
			SecretID: r.SecretID, Revision: r.Revision,
		}, scw.WithContext(ctx))
	} else {
		resp, err = a.sm.AccessSecretVersionByPath(&secret.AccessSecretVersionByPathRequest{
			SecretPath: r.Path, SecretName: r.Name, Revision: r.Revision, ProjectID: a.project,
		}, scw.WithContext(ctx))
	}
	if err != nil {
		return nil, 0, callError("access "+r.Target()+"@"+r.Revision, err)
	}
	if resp.DataCrc32 != nil && crc32.ChecksumIEEE(resp.Data) != *resp.DataCrc32 {
		clear(resp.Data)
		return nil, 0, fmt.Errorf("access %s@%d: the value does not match its CRC32 checksum", r.Target(), resp.Revision)
	}
	return resp.Data, resp.Revision, nil
}

func cmdVersionEnable(ctx context.Context, e *env, args []string) error {
	return versionAction(ctx, e, args, "enable", "Make a version accessible again.",
		func(a *api, id, rev string) (*secret.SecretVersion, error) {
			return a.sm.EnableSecretVersion(&secret.EnableSecretVersionRequest{SecretID: id, Revision: rev}, scw.WithContext(ctx))
		})
}

func cmdVersionDisable(ctx context.Context, e *env, args []string) error {
	return versionAction(ctx, e, args, "disable", "Make a version inaccessible; enable it again with \"coffer version enable\".",
		func(a *api, id, rev string) (*secret.SecretVersion, error) {
			return a.sm.DisableSecretVersion(&secret.DisableSecretVersionRequest{SecretID: id, Revision: rev}, scw.WithContext(ctx))
		})
}

func cmdVersionDelete(ctx context.Context, e *env, args []string) error {
	return versionAction(ctx, e, args, "delete", "Delete a version. It is scheduled for deletion and can be restored for 7 days.",
		func(a *api, id, rev string) (*secret.SecretVersion, error) {
			return nil, a.sm.DeleteSecretVersion(&secret.DeleteSecretVersionRequest{SecretID: id, Revision: rev}, scw.WithContext(ctx))
		})
}

// versionAction runs "coffer version VERB --secret SECRET --revision N".
// do returns the changed version, or nil when the server returns none.
func versionAction(ctx context.Context, e *env, args []string, verb, help string,
	do func(a *api, id, rev string) (*secret.SecretVersion, error)) error {
	f, secretFlag := e.versionFlags("version "+verb, "--secret SECRET --revision REVISION [flags]", help, verb != "delete")
	revision := f.String("revision", "", "revision: a number, latest or latest_enabled (required)")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if err := f.noArgs(pos); err != nil {
		return err
	}
	ref, err := f.secretArg("--secret", *secretFlag)
	if err != nil {
		return err
	}
	rev, err := f.revisionArg(*revision)
	if err != nil {
		return err
	}
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	id, err := a.secretID(ctx, ref)
	if err != nil {
		return err
	}
	v, err := do(a, id, rev)
	if err != nil {
		return callError(verb+" version "+rev+" of "+ref.Target(), err)
	}
	if v == nil {
		return printDeleted(e, "version "+rev+" of secret "+ref.Target(), id)
	}
	return f.printVersionOut(e, v)
}
