package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/postgres"
)

// migrate brings a PostgreSQL database to this program's schema. Nodes
// migrate at start unless told not to (serve --no-migrate); this command is
// for deployments that migrate in a step of their own, with a role allowed
// to change the schema.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	store := fs.String("store", getenv("COFFER_STORE"), "postgres:// URL of the database (env COFFER_STORE)")
	if code, ok := parseCommand(fs, "Bring the PostgreSQL database of --store to this program's schema, then exit.", args, stdout, stderr); !ok {
		return code
	}
	if !node.IsPostgres(*store) {
		fmt.Fprintln(stderr, "coffer migrate: --store (or COFFER_STORE) must be a postgres:// or postgresql:// URL; "+
			"a SQLite store migrates itself when coffer serve opens it")
		return 2
	}
	db, err := postgres.Open(ctx, *store, postgres.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "coffer migrate: %v\n", err)
		return 1
	}
	defer db.Close()
	fmt.Fprintln(stdout, "The database schema is up to date.")
	return 0
}
