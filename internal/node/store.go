package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/cache"
)

// store is what a node needs of its store: transactions, and the leases
// that elect the node that runs the background jobs.
type store interface {
	storage.Store
	storage.Leases
}

// IsPostgres reports whether a store setting names a PostgreSQL database.
func IsPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// storeKind names the kind of store a store setting selects.
func storeKind(store string) string {
	if store == "" {
		return "sqlite"
	}
	return "postgres"
}

// openStore opens the store cfg names: SQLite in the data directory, or
// PostgreSQL.
func openStore(ctx context.Context, cfg Config) (store, error) {
	// Each case returns a nil interface on failure, not a nil pointer in
	// one, so that the caller's cleanup can tell there is nothing to close.
	switch {
	case cfg.Store == "":
		db, err := sqlite.OpenOptions(filepath.Join(cfg.DataDir, DatabaseFile), cfg.SQLite)
		if err != nil {
			return nil, err
		}
		return db, nil
	case IsPostgres(cfg.Store):
		db, err := postgres.Open(ctx, cfg.Store, postgres.Options{NoMigrate: cfg.NoMigrate, Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	// The setting may hold a password: say only what it starts with.
	scheme, _, _ := strings.Cut(cfg.Store, ":")
	return nil, fmt.Errorf("unknown store %q...: want a postgres:// or postgresql:// URL, or none for SQLite in the data directory", scheme)
}

// hasData reports whether a store was set up by a node already: it holds
// the check of the root key it belongs to.
func hasData(ctx context.Context, s storage.Store) (bool, error) {
	err := s.View(ctx, func(tx storage.Tx) error {
		_, err := tx.GetMeta(ctx, keyring.CheckMeta)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// wantsReadCache reports whether cfg has the read cache: unless turned off,
// on SQLite where the data directory can be locked (the cache is then
// exact), and on PostgreSQL (its staleness bounded by ReadCacheMaxStale).
func wantsReadCache(cfg Config) bool {
	return !cfg.NoReadCache && (cfg.Store != "" || canLock)
}

// readCacheMaxStale is how old a hit may be on a store other nodes write;
// 0 (no bound: the cache is exact) on SQLite.
func readCacheMaxStale(cfg Config) time.Duration {
	if cfg.Store == "" {
		return 0
	}
	return cmp.Or(cfg.ReadCacheMaxStale, time.Second)
}

// ReadCacheStats returns the counters of the node's read cache, and false
// when it has none.
func (n *Node) ReadCacheStats() (cache.Stats, bool) {
	if n.cache == nil {
		return cache.Stats{}, false
	}
	return n.cache.Stats(), true
}
