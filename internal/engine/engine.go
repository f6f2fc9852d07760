// Package engine holds every business rule of coffer: authorization,
// validation, versions and their states, check-and-set, stages, ephemeral
// policies, deletion schedules.
//
// The dialects (Scaleway, Vault KV v2, OKMS, ...) are thin translations of
// their wire formats into calls of this package, so that a rule written here
// holds in all of them; a rule enforced in one handler would be a bypass in
// the others. The engine knows neither HTTP nor SQL: it speaks to storage
// through storage.Store and to the crypto through the Keyring interface.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/ca"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Keyring seals and opens data under protection keys. It is implemented by
// internal/keyring.
type Keyring interface {
	// EnsureDefaultKey returns the project's default key, creating it in tx.
	EnsureDefaultKey(ctx context.Context, tx storage.Tx, projectID string) (*storage.Key, error)
	// CreateKey creates a user-managed protection key of a project in tx.
	CreateKey(ctx context.Context, tx storage.Tx, projectID, name string) (*storage.Key, error)
	// SealVersion seals plaintext under keyID ("" = the project's default).
	SealVersion(ctx context.Context, tx storage.Tx, projectID, keyID string, plaintext, ad []byte) ([]byte, error)
	// OpenVersion opens what SealVersion sealed with the same ad.
	OpenVersion(ctx context.Context, tx storage.Tx, ciphertext, ad []byte) ([]byte, error)
	// SealCredential seals a credential under the root key.
	SealCredential(plaintext, ad []byte) ([]byte, error)
	// OpenCredential opens what SealCredential sealed with the same ad.
	OpenCredential(ciphertext, ad []byte) ([]byte, error)
	// CheckRoot fails, in tx, once the store's root key was rotated away
	// from the keyring's: every transaction that stores what
	// SealCredential sealed calls it first (internal/keyring, rootkey.go).
	CheckRoot(ctx context.Context, tx storage.Tx) error
	// RotateKey adds a version to a protection key in tx.
	RotateKey(ctx context.Context, tx storage.Tx, keyID string) (*storage.KeyVersion, error)
	// Rewrap re-wraps the data key of a ciphertext under the latest
	// version of the key that sealed it.
	Rewrap(ctx context.Context, tx storage.Tx, ciphertext, ad []byte) ([]byte, error)
}

// Limits are the configurable bounds the engine enforces.
type Limits struct {
	// MaxPayloadSize is the largest version data in bytes.
	MaxPayloadSize int
	// MaxSecretsPerProject is the number of secrets a project may hold;
	// 0 means no limit.
	MaxSecretsPerProject int
	// MaxPageSize caps the page a listing returns.
	MaxPageSize int
}

// DefaultLimits returns the limits used when none are configured.
func DefaultLimits() Limits {
	return Limits{MaxPayloadSize: coffer.MaxPayloadSize, MaxPageSize: 1000}
}

// Config holds what an Engine needs.
type Config struct {
	Store   storage.Store
	Keyring Keyring
	Limits  Limits
	// Now returns the current time; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
	// Audit writes the records of what the engine does on its own, as the
	// system: the background jobs' expiries and purges. Nil when the trail
	// is off.
	Audit func(ctx context.Context, rec *coffer.AuditRecord) error
	// Webhooks delivers rotation triggers; nil when the server fires
	// none (creating a trigger is then EUNAVAILABLE).
	Webhooks Webhooks
	// JobTimeout is how long a rotation job may stay open before the
	// scheduler fails it; DefaultJobTimeout when 0.
	JobTimeout time.Duration
	// Dump writes a consistent dump of the whole store to w (backup.go);
	// nil when the store cannot dump (a backup is then EUNAVAILABLE).
	Dump func(ctx context.Context, w io.Writer) error
	// RewrapBatch is how many versions one transaction of the key-rewrap
	// job examines; DefaultRewrapBatch when 0.
	RewrapBatch int
	// ObserveTx, when set, is told of every transaction the engine ran:
	// a write or a read, how long it took, and whether it failed
	// (internal/metrics).
	ObserveTx func(write bool, took time.Duration, err error)
}

// Engine implements the coffer services over a store and a keyring.
type Engine struct {
	store   storage.Store
	keyring Keyring
	limits  Limits
	now     func() time.Time
	log     *slog.Logger
	audit   func(ctx context.Context, rec *coffer.AuditRecord) error

	webhooks   Webhooks
	jobTimeout time.Duration
	dump       func(ctx context.Context, w io.Writer) error
	// rewrapBatchSize is Config.RewrapBatch (keyrotation.go).
	rewrapBatchSize int
	observeTx       func(write bool, took time.Duration, err error)
	// bg tracks the trigger deliveries under way; bgStop ends bgCtx,
	// under which they run (Close).
	bg     sync.WaitGroup
	bgCtx  context.Context
	bgStop context.CancelFunc

	// projectOrg caches the organization of each project: it never changes.
	projectOrg sync.Map // project id -> organization id

	auth authCache
	// rules caches principals' policies.
	rules ruleCache

	// ca is coffer's certificate authority, loaded by EnsureCA.
	ca atomic.Pointer[ca.CA]

	// accessed holds access times until FlushAccessTimes (accessed.go).
	accessed      accessTracker
	accessFlushMu sync.Mutex

	// targets opens the clients of key vault targets (sync.go).
	targets atomic.Pointer[Targets]
}

var (
	_ coffer.SecretService  = (*Engine)(nil)
	_ coffer.AuthService    = (*Engine)(nil)
	_ coffer.ProjectService = (*Engine)(nil)
)

// New returns an engine.
func New(cfg Config) *Engine {
	e := &Engine{
		store:   cfg.Store,
		keyring: cfg.Keyring,
		limits:  cfg.Limits,
		now:     cfg.Now,
		log:     cfg.Logger,
		audit:   cfg.Audit,

		webhooks:   cfg.Webhooks,
		jobTimeout: cfg.JobTimeout,
		dump:       cfg.Dump,
		observeTx:  cfg.ObserveTx,

		rewrapBatchSize: cfg.RewrapBatch,
	}
	if e.rewrapBatchSize <= 0 {
		e.rewrapBatchSize = DefaultRewrapBatch
	}
	if e.jobTimeout <= 0 {
		e.jobTimeout = DefaultJobTimeout
	}
	e.bgCtx, e.bgStop = context.WithCancel(context.Background())
	if e.limits.MaxPayloadSize <= 0 {
		e.limits.MaxPayloadSize = coffer.MaxPayloadSize
	}
	if e.limits.MaxPageSize <= 0 {
		e.limits.MaxPageSize = DefaultLimits().MaxPageSize
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.auth.entries = make(map[[32]byte]authEntry)
	return e
}

// Now returns the engine's current time, in UTC at microsecond precision,
// the precision every store keeps.
func (e *Engine) Now() time.Time {
	return e.now().UTC().Truncate(time.Microsecond)
}

// view and update run fn in a read or a write transaction. They return
// fn's error, or the store's, as it is: callers turn storage errors into
// application errors with storageErr where they know the resource.
func (e *Engine) view(ctx context.Context, fn func(tx storage.Tx) error) error {
	if e.observeTx == nil {
		return e.store.View(ctx, fn)
	}
	start := time.Now()
	err := e.store.View(ctx, fn)
	e.observeTx(false, time.Since(start), err)
	return err
}

// A request's change commits with its record: when the request's audit
// entry has a draft (the server gives it one when the trail is on), update
// writes the draft, as the request's pending record, in the transaction of
// the change (internal/audit, pending.go), and notes on the entry whether
// it committed.
func (e *Engine) update(ctx context.Context, fn func(tx storage.Tx) error) error {
	if e.observeTx == nil {
		return fullErr(e.updateStore(ctx, fn))
	}
	start := time.Now()
	err := e.updateStore(ctx, fn)
	e.observeTx(true, time.Since(start), err)
	return fullErr(err)
}

// errFull is what a change refused for want of space answers: the store
// is unavailable for changes, not broken, and a client may retry.
var errFull = &coffer.Error{Code: coffer.EUNAVAILABLE,
	Message: "the store has no space left: changes are refused until space is freed"}

// fullErr turns storage.ErrFull into errFull.
func fullErr(err error) error {
	if err != nil && errors.Is(err, storage.ErrFull) {
		return errFull
	}
	return err
}

func (e *Engine) updateStore(ctx context.Context, fn func(tx storage.Tx) error) error {
	entry := coffer.AuditEntryFromContext(ctx)
	if !entry.HasDraft() {
		return e.store.Update(ctx, fn)
	}
	staged := false
	err := e.store.Update(ctx, func(tx storage.Tx) error {
		staged = false
		if err := fn(tx); err != nil {
			return err
		}
		staged = true
		return audit.PutPending(ctx, tx, entry.Draft(), e.Now())
	})
	switch {
	case err == nil:
		entry.SetStaged(coffer.StagedYes)
	case staged:
		// The draft was written, and the commit failed, or its outcome
		// is not known.
		entry.SetStaged(coffer.StagedMaybe)
	}
	return err
}

// storageErr turns a storage error into an application error: ErrNotFound
// into ENOTFOUND for the resource, ErrConflict into ECONFLICT, anything else
// into an internal error that keeps its cause for the log.
func storageErr(err error, resource, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return coffer.NotFound(resource, id)
	case errors.Is(err, storage.ErrConflict):
		return &coffer.Error{Code: coffer.ECONFLICT, Message: resource + " already exists", Resource: resource, ResourceID: id}
	case coffer.AsError(err) != nil:
		return err
	}
	return fmt.Errorf("%s %s: %w", resource, id, err)
}

func ptr[T any](v T) *T { return &v }
