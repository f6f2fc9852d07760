// Package pgtest gives each test a PostgreSQL schema of its own on the
// database that COFFER_TEST_POSTGRES names, so that test runs, packages and
// tests never see each other's rows, and any number of them can share one
// server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the environment variable that holds the URL of the test
// database, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const Env = "COFFER_TEST_POSTGRES"

// URL returns the URL of the test database, or "" when none is configured.
func URL() string { return os.Getenv(Env) }

// Require skips t unless a test database is configured, and returns its URL.
func Require(t testing.TB) string {
	t.Helper()
	u := URL()
	if u == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL tests (set it to a database URL such as "+
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them)", Env)
	}
	return u
}

// NewSchema creates a fresh schema coffer_test_<random> on the test database
// and returns a URL whose connections use it (their search_path). The schema
// and everything in it are dropped when t ends. It skips t unless a test
// database is configured.
func NewSchema(t testing.TB) string {
	t.Helper()
	base := Require(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "coffer_test_" + hex.EncodeToString(b[:])
	exec(t, base, `CREATE SCHEMA `+schema)
	t.Cleanup(func() { exec(t, base, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) })
	dsn, err := WithSchema(base, schema)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	return dsn
}

// WithSchema returns the URL u with its connections' search_path set to
// schema.
func WithSchema(u, schema string) (string, error) {
	if !strings.Contains(u, "://") {
		return u + " search_path=" + schema, nil // a key=value DSN
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	q := p.Query()
	q.Set("search_path", schema)
	p.RawQuery = q.Encode()
	return p.String(), nil
}

// exec runs one statement on its own connection to the database at u.
func exec(t testing.TB, u, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect to the test database (%s): %v", Env, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
