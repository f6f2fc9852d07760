// Package cache is a storage.Store in front of another that answers the
// reads of a request path from memory when nothing changed: the secret by
// id or by path, and a version with its sealed data. A Vault or OKMS read of
// an unchanged secret then opens no transaction at all.
//
// # What it holds
//
// Records as the store returns them: secrets (metadata) and versions with
// their data sealed, the ciphertext, never plaintext. Data keys stay wrapped;
// each read unwraps and opens as it would without the cache. Versions with
// ephemeral properties (an expiry, expire-once-accessed) are never cached:
// their policy fires at access time, in a write transaction. Nothing else is
// cached here (the keyring and the engine cache keys and policies).
// The memory is bounded in bytes (an estimate), least recently used first
// out; a secret and the versions cached of it are one entry.
//
// # How the engine sees it
//
// It does not: the cache is a storage.Store. View hands fn a transaction
// that answers GetSecret, GetSecretByPath and GetVersion from memory while
// it can, and begins a transaction of the store underneath at the first
// call it cannot answer (a miss, or any other method); from then on every
// call of that view goes to the store, and what GetSecret, GetSecretByPath
// and GetVersion read is cached. Update is the store's, reads included
// (they lock, and see the transaction's own writes); the secrets it writes
// are invalidated.
//
// # Why a hit is never stale on this node
//
// An Update that writes a secret or one of its versions marks the secret's
// bucket (its id hashes to one of a few thousand) before the write, so
// before the commit, and unmarks it once the transaction ended, committed
// or rolled back. Marking and unmarking both drop what is cached of the
// secret and advance the bucket's generation. A view reads the global
// generation before it reads anything; what it reads from the store is
// cached only if its bucket has no writer under way and no generation newer
// than the view's. So a view whose read raced a write, whether it read the
// row before or after the commit, never leaves a record in the cache that
// the write made stale; and while a write is under way nothing of its
// secret is served from memory, so once it commits no reader on this node
// sees the old record. A record served from memory is the one a
// transaction beginning at that moment would read.
//
// A view that mixes hits and a transaction (the secret from memory, a
// listing from the store) reads the hits at one moment and the rest on a
// snapshot taken a little later: each record is one a transaction could
// have read during the view, but two records may come from either side of
// a write that commits between them, as under READ COMMITTED.
//
// # Other writers
//
// Writes that do not go through this Store must be told with Invalidate:
// on PostgreSQL, the changes other nodes publish (storage.ChangeSecret,
// storage.ChangeReset). Between another node's commit and its notification
// this node may serve the old record; with MaxStale set, a hit also needs a
// recent Confirm, which bounds that window even when notifications stop
// arriving (docs/postgresql.md, "Read cache"). On SQLite another process
// writing the same file would go unseen: the node refuses to start beside
// another one (docs/architecture.md).
package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

var (
	_ storage.Store  = (*Store)(nil)
	_ storage.Leases = (*Store)(nil)
)

// DefaultMaxBytes bounds the memory of a cache configured without a bound.
const DefaultMaxBytes = 64 << 20

// Config configures a Store.
type Config struct {
	// MaxBytes bounds the records cached, estimated in bytes;
	// DefaultMaxBytes when 0.
	MaxBytes int64
	// MaxStale, when set, makes a hit need a Confirm newer than MaxStale:
	// for a store other nodes write, whose changes arrive by notification.
	MaxStale time.Duration
	// Now is the clock MaxStale is measured on; time.Now when nil.
	Now func() time.Time
}

// Store caches the reads of another store. It owns no goroutine.
type Store struct {
	inner    storage.Store
	r        *records
	maxStale time.Duration
	now      func() time.Time
	// confirmed is when, in Unix nanoseconds, the last Confirm said every
	// change committed before was invalidated.
	confirmed atomic.Int64
}

// New returns a cache in front of inner.
func New(inner storage.Store, cfg Config) *Store {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{inner: inner, r: newRecords(cfg.MaxBytes), maxStale: cfg.MaxStale, now: cfg.Now}
}

// Invalidate applies a change another writer of the store committed:
// ChangeSecret drops what is cached of the secret, ChangeReset drops
// everything; other kinds are not the cache's. It never blocks for long: it
// is called on a store's listening goroutine.
func (s *Store) Invalidate(c storage.Change) {
	switch c.Kind {
	case storage.ChangeReset:
		s.r.reset()
	case storage.ChangeSecret:
		s.r.invalidate(c.ID, 0)
	}
}

// Confirm tells the cache that every change committed before at has been
// passed to Invalidate. With MaxStale set, hits are served only until
// MaxStale after the latest time confirmed.
func (s *Store) Confirm(at time.Time) {
	t := at.UnixNano()
	for {
		old := s.confirmed.Load()
		if t <= old || s.confirmed.CompareAndSwap(old, t) {
			return
		}
	}
}

// fresh reports whether hits may be served now.
func (s *Store) fresh() bool {
	return s.maxStale <= 0 || s.now().UnixNano()-s.confirmed.Load() < int64(s.maxStale)
}

// Stats returns the cache's counters.
func (s *Store) Stats() Stats { return s.r.stats() }

// Ping checks the store underneath.
func (s *Store) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }

// Close closes the store underneath.
func (s *Store) Close() error { return s.inner.Close() }

// errNoLeases is returned by the lease methods over a store without leases.
var errNoLeases = errors.New("cache: the store has no leases")

// AcquireLease is the store's: leases are never cached.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (int64, bool, error) {
	l, ok := s.inner.(storage.Leases)
	if !ok {
		return 0, false, errNoLeases
	}
	return l.AcquireLease(ctx, name, holder, ttl)
}

// ReleaseLease is the store's.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string, token int64) error {
	l, ok := s.inner.(storage.Leases)
	if !ok {
		return errNoLeases
	}
	return l.ReleaseLease(ctx, name, holder, token)
}

// View runs fn in a read transaction that answers from memory what it can
// and begins one of the store underneath at the first call it cannot.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) (err error) {
	t := &tx{s: s, gen: s.r.generation(), hits: s.fresh()}
	t.lazy = &lazyView{ctx: ctx, inner: s.inner}
	defer func() {
		if cerr := t.lazy.end(); err == nil {
			err = cerr
		}
	}()
	return fn(t)
}

// Update runs fn in a write transaction of the store underneath, and drops
// what is cached of each secret it writes, before the write and again once
// the transaction has ended.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	t := &tx{s: s, write: true}
	defer t.unmark()
	return s.inner.Update(ctx, func(inner storage.Tx) error {
		t.inner = inner
		if _, ok := inner.(storage.NotifyTx); ok {
			return fn(notifyTx{t})
		}
		return fn(t)
	})
}

var _ storage.Relaxed = (*Store)(nil)

// UpdateRelaxed is Update, committed relaxed when the store underneath can
// (storage.Relaxed), durably otherwise.
func (s *Store) UpdateRelaxed(ctx context.Context, fn func(storage.Tx) error) error {
	r, ok := s.inner.(storage.Relaxed)
	if !ok {
		return s.Update(ctx, fn)
	}
	t := &tx{s: s, write: true}
	defer t.unmark()
	return r.UpdateRelaxed(ctx, func(inner storage.Tx) error {
		t.inner = inner
		if _, ok := inner.(storage.NotifyTx); ok {
			return fn(notifyTx{t})
		}
		return fn(t)
	})
}

// Flush is the store underneath's; a store that commits nothing relaxed
// has nothing to flush.
func (s *Store) Flush(ctx context.Context) error {
	if r, ok := s.inner.(storage.Relaxed); ok {
		return r.Flush(ctx)
	}
	return nil
}

// lazyView begins a view of the store underneath on demand. Store.View
// takes a function, so the transaction runs on a goroutine of its own,
// which hands it over and waits until the cache's view ends.
type lazyView struct {
	ctx   context.Context
	inner storage.Store

	begun  bool
	tx     storage.Tx
	err    error // of the view, once it ended
	txc    chan storage.Tx
	done   chan struct{}
	result chan error
}

// get returns the transaction, beginning it on the first call.
func (l *lazyView) get() (storage.Tx, error) {
	if l.begun {
		return l.tx, l.err
	}
	l.begun = true
	l.txc, l.done, l.result = make(chan storage.Tx), make(chan struct{}), make(chan error, 1)
	go func() {
		l.result <- l.inner.View(l.ctx, func(tx storage.Tx) error {
			l.txc <- tx
			<-l.done
			return nil
		})
	}()
	select {
	case l.tx = <-l.txc:
	case l.err = <-l.result:
		l.result = nil
		if l.err == nil {
			l.err = errors.New("cache: the store's view ended before it began")
		}
	}
	return l.tx, l.err
}

// end ends the transaction, if one began, and waits for it.
func (l *lazyView) end() error {
	if l.tx == nil || l.result == nil {
		return nil
	}
	close(l.done)
	err := <-l.result
	l.tx, l.result = nil, nil
	return err
}
