package nodetest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// BackendEnv names the environment variable that picks the store of test
// nodes: "sqlite" (or unset) or "postgres".
const BackendEnv = "COFFER_TEST_BACKEND"

// Backend returns the store test nodes use: "sqlite" or "postgres".
func Backend() string {
	if os.Getenv(BackendEnv) == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// storeFile is the file of a test node's data directory that records the
// URL of its PostgreSQL schema, so that a node restarted on the directory
// (WithDataDir) finds its data, as it would find a SQLite file there.
const storeFile = "nodetest-store-url"

// StoreFor returns the store setting of a test node whose data directory is
// dir: "" (SQLite in dir) unless Backend is "postgres". With PostgreSQL it
// is the URL of a fresh schema, created on the first call for dir, dropped
// when t ends and recorded in dir, so that later calls for dir return it.
func StoreFor(t testing.TB, dir string) string {
	t.Helper()
	if Backend() != "postgres" {
		return ""
	}
	if pgtest.URL() == "" {
		t.Fatalf("%s=postgres needs %s to name a database", BackendEnv, pgtest.Env)
	}
	path := filepath.Join(dir, storeFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	u := pgtest.NewSchema(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(u), 0o600); err != nil {
		t.Fatal(err)
	}
	return u
}
