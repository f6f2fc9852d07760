// Command coffer is the coffer secret manager: `coffer serve` runs a node,
// the other commands are its command-line client.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

const usage = `coffer: a self-hosted secret manager

Usage:
  coffer serve [flags]            run a coffer node
  coffer migrate --store URL      bring a PostgreSQL database to this
                                  program's schema, then exit
  coffer secret create|list|get|update|delete|rotate ...
  coffer version create|list|access|accessed|enable|disable|delete ...
                                  the versions of a secret (the program's
                                  own version is coffer --version)
  coffer get REF                  print a secret's value, or one field of a
                                  key-value secret (REF = SECRET_ID#field or
                                  PATH/NAME#field, either with @REVISION)
  coffer run [--env NAME=REF]... -- COMMAND [ARG]...
                                  run COMMAND with secrets in its environment
  coffer vault create|list|get|update|delete|import ...
                                  key vaults: folders whose secrets are
                                  deployed to Vault, Scaleway, OKMS or NAVER
  coffer sync status              what is pending or failed, and why
  coffer iam project|principal|key|policy ...
                                  manage projects, principals, API keys and
                                  their policies
  coffer cert issue|revoke|ca ...
                                  client certificates for mutual TLS, and
                                  the CA that signs them
  coffer trigger create|list|delete ...
                                  manage rotation triggers (webhooks)
  coffer operator rotate-key|status|rotate-root ...
                                  rotate protection keys (re-wrapped in the
                                  background) and the root key
  coffer audit tail|query|verify ...
                                  read the audit trail, check its hash chain
  coffer export --out FILE ...    export secrets with every version into a file
                                  encrypted to an instance's export key or to
                                  a passphrase
  coffer import FILE ...          import an export file
  coffer export-key               print this instance's export key
  coffer bench [flags]            load a coffer, or any Vault-compatible
                                  server, and measure it
  coffer backup --out FILE        an encrypted, consistent backup of a
                                  running node (docs/operations.md)
  coffer restore --in FILE --data-dir DIR | --store URL
                                  restore a backup into an empty target

The client commands read COFFER_ADDR (the server's base URL), COFFER_TOKEN
(an API secret key), COFFER_PROJECT and COFFER_REGION; what they leave unset
comes from admin-credentials.json in the data directory (--data-dir, else
COFFER_DATA_DIR, else ./coffer-data).

Run "coffer COMMAND -h" for a command's flags, "coffer --version" for the
program's version.
`

// run runs one command and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, getenv)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "--version", "-version":
		fmt.Fprintln(stdout, programVersion())
		return 0
	}
	return client(ctx, args, stdin, stdout, stderr, getenv)
}
