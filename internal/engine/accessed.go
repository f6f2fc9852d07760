package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Each version remembers when its data was last handed out (accessed_at).
//
// A read is one read transaction: writing the time there would make every
// read a write, and SQLite has one writer and fsyncs each commit. So the
// engine notes the time in memory (accessTracker) and the node writes what
// it noted every few seconds, in one transaction (FlushAccessTimes). The
// store keeps the newest time whatever order the batches of several nodes
// arrive in (storage.AccessTx). What a crash loses is the times noted since
// the last flush, never a version's data or state.

// maxPendingAccesses bounds the versions whose access time waits for a
// flush: at about 100 bytes each, a few megabytes.
const maxPendingAccesses = 65536

// errNoAccessTx means the store keeps no access times.
var errNoAccessTx = errors.New("the store does not keep access times")

// accessTracker holds the newest access time of each version read since the
// last flush, by secret id and revision. Its methods never do I/O and hold
// its mutex for a map operation, so that a read never waits on a flush.
type accessTracker struct {
	mu sync.Mutex
	// max is the bound on pending entries; maxPendingAccesses when 0.
	max int
	// pending is what the next flush writes; n counts its entries.
	pending map[string]map[uint32]time.Time
	n       int
	// flushing is the batch a flush is writing, until it commits; reads
	// merge it too, so that a time is never missing from both the map and
	// the store.
	flushing map[string]map[uint32]time.Time
	// dropped counts the times not kept because the map was full, since
	// the last flush reported them.
	dropped int
	// full, buffered, is signalled when the map fills up, so that the
	// flusher flushes early.
	full chan struct{}
}

// fullChan returns t.full, made on first use. t.mu must be held.
func (t *accessTracker) fullChan() chan struct{} {
	if t.full == nil {
		t.full = make(chan struct{}, 1)
	}
	return t.full
}

// record notes that a version was read at at. When the map is full and the
// version not yet in it, the time is not kept: the read must neither wait
// for a flush nor grow memory without bound. That loses the time of this
// read, and only until a later read of the version after the flush that
// the full map triggers at once; each such loss is counted and logged by
// that flush.
func (t *accessTracker) record(secretID string, rev uint32, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = map[string]map[uint32]time.Time{}
	}
	revs := t.pending[secretID]
	if old, ok := revs[rev]; ok {
		if at.After(old) {
			revs[rev] = at
		}
		return
	}
	if t.n >= cmp.Or(t.max, maxPendingAccesses) {
		t.dropped++
		select {
		case t.fullChan() <- struct{}{}:
		default:
		}
		return
	}
	if revs == nil {
		revs = map[uint32]time.Time{}
		t.pending[secretID] = revs
	}
	revs[rev] = at
	t.n++
}

// take moves the pending entries into the flushing batch and returns them
// sorted by secret and revision, with the number of times dropped since the
// last take. Only one batch is taken at a time (Engine.flushMu).
func (t *accessTracker) take() ([]storage.VersionAccess, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	batch := make([]storage.VersionAccess, 0, t.n)
	for id, revs := range t.pending {
		for rev, at := range revs {
			batch = append(batch, storage.VersionAccess{SecretID: id, Revision: rev, At: at})
		}
	}
	slices.SortFunc(batch, func(a, b storage.VersionAccess) int {
		return cmp.Or(cmp.Compare(a.SecretID, b.SecretID), cmp.Compare(a.Revision, b.Revision))
	})
	t.flushing, t.pending, t.n = t.pending, nil, 0
	dropped := t.dropped
	t.dropped = 0
	return batch, dropped
}

// done ends the flush of the batch take returned. When it failed, each time
// of the batch goes back into the map unless a newer one was noted
// meanwhile, or the map is full (counted as dropped).
func (t *accessTracker) done(failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	batch := t.flushing
	t.flushing = nil
	if !failed {
		return
	}
	for id, revs := range batch {
		for rev, at := range revs {
			if cur, ok := t.pending[id][rev]; ok {
				if at.After(cur) {
					t.pending[id][rev] = at
				}
				continue
			}
			if t.n >= cmp.Or(t.max, maxPendingAccesses) {
				t.dropped++
				continue
			}
			if t.pending == nil {
				t.pending = map[string]map[uint32]time.Time{}
			}
			if t.pending[id] == nil {
				t.pending[id] = map[uint32]time.Time{}
			}
			t.pending[id][rev] = at
			t.n++
		}
	}
}

// secret returns the times noted for the versions of one secret and not yet
// committed to the store, the newest of each.
func (t *accessTracker) secret(secretID string) map[uint32]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out map[uint32]time.Time
	for _, m := range []map[string]map[uint32]time.Time{t.pending, t.flushing} {
		for rev, at := range m[secretID] {
			if out == nil {
				out = map[uint32]time.Time{}
			}
			if cur, ok := out[rev]; !ok || at.After(cur) {
				out[rev] = at
			}
		}
	}
	return out
}

// recordAccess notes that a version's data was handed out at at.
func (e *Engine) recordAccess(secretID string, rev uint32, at time.Time) {
	e.accessed.record(secretID, rev, at)
}

// AccessTimesFull is signalled when the access times waiting for a flush
// reach their bound: the node then flushes at once rather than at its next
// tick. Reads go on meanwhile; the times they would add are dropped, and
// counted, until the flush empties the map.
func (e *Engine) AccessTimesFull() <-chan struct{} {
	e.accessed.mu.Lock()
	defer e.accessed.mu.Unlock()
	return e.accessed.fullChan()
}

// FlushAccessTimes writes the access times noted since the last flush in
// one transaction and forgets them. Times noted while it runs wait for the
// next flush. When the transaction fails, the times go back to wait for the
// next flush (unless newer ones were noted meanwhile) and the error is
// returned; it is an internal error. Flushes run one at a time.
func (e *Engine) FlushAccessTimes(ctx context.Context) error {
	e.accessFlushMu.Lock()
	defer e.accessFlushMu.Unlock()
	batch, dropped := e.accessed.take()
	if dropped > 0 {
		e.log.WarnContext(ctx, "access times were not recorded: more versions were read between two flushes than the tracker holds",
			"dropped", dropped, "bound", maxPendingAccesses)
	}
	if len(batch) == 0 {
		e.accessed.done(false)
		return nil
	}
	err := e.update(ctx, func(tx storage.Tx) error {
		atx, ok := tx.(storage.AccessTx)
		if !ok {
			return errNoAccessTx
		}
		return atx.TouchVersions(ctx, batch)
	})
	// A store that keeps no times never will: retrying would only hold
	// memory.
	e.accessed.done(err != nil && !errors.Is(err, errNoAccessTx))
	if err != nil {
		return fmt.Errorf("flush the access times of %d versions: %w", len(batch), err)
	}
	return nil
}

// ListVersionsAccessed is ListVersions with each version's AccessedAt
// including the reads this node noted and has not flushed yet: on one node
// it is exact; across nodes sharing a store, a read on another node shows
// once that node flushes, within its flush interval. Returns EINVALID,
// ENOTFOUND (the secret, also when the caller may not read it).
func (e *Engine) ListVersionsAccessed(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*coffer.Version, int, error) {
	// The times are taken before the store is read: a time flushed in
	// between is then in the store, and one noted after is of a read that
	// did not end before this call began.
	noted := e.accessed.secret(secretID)
	vs, total, err := e.ListVersions(ctx, secretID, f)
	if err != nil {
		return nil, 0, err
	}
	for _, v := range vs {
		if at, ok := noted[v.Revision]; ok && (v.AccessedAt == nil || at.After(*v.AccessedAt)) {
			v.AccessedAt = &at
		}
	}
	return vs, total, nil
}

// SecretVersions returns a secret, one page of its versions with the
// access times of ListVersionsAccessed, and the caller's rights on the
// secret, read in one transaction: what a page about the secret shows.
// Returns EINVALID, ENOTFOUND.
func (e *Engine) SecretVersions(ctx context.Context, secretID string, f coffer.VersionFilter) (*coffer.SecretView, error) {
	noted := e.accessed.secret(secretID)
	var rights coffer.Rights
	s, vs, total, err := e.listVersions(ctx, secretID, f, func(tx storage.Tx, c *coffer.Caller, s *coffer.Secret) (err error) {
		rights, err = e.rights(ctx, tx, c, s.ProjectID, s.Path)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if at, ok := noted[v.Revision]; ok && (v.AccessedAt == nil || at.After(*v.AccessedAt)) {
			v.AccessedAt = &at
		}
	}
	return &coffer.SecretView{Secret: s, Versions: vs, Total: total, Rights: rights}, nil
}

// Rights returns what the caller may do on a project at a folder path:
// nothing at all for a project or a path that no rule of the caller
// covers. Returns EINVALID.
func (e *Engine) Rights(ctx context.Context, projectID, path string) (coffer.Rights, error) {
	c, err := caller(ctx)
	if err != nil {
		return coffer.Rights{}, err
	}
	if err := validateID("project_id", projectID); err != nil {
		return coffer.Rights{}, err
	}
	p, err := NormalizePath("path", path)
	if err != nil {
		return coffer.Rights{}, err
	}
	var r coffer.Rights
	err = e.view(ctx, func(tx storage.Tx) (err error) {
		r, err = e.rights(ctx, tx, c, projectID, p)
		return err
	})
	return r, err
}

// rights decides each action on a project and path for the caller.
func (e *Engine) rights(ctx context.Context, tx storage.Tx, c *coffer.Caller, projectID, path string) (coffer.Rights, error) {
	var r coffer.Rights
	for _, a := range []struct {
		action string
		to     *bool
	}{{actionRead, &r.Read}, {actionAccess, &r.Access}, {actionWrite, &r.Write}, {actionDelete, &r.Delete}} {
		err := e.authorize(ctx, tx, c, a.action, projectID, path)
		switch coffer.ErrorCode(err) {
		case "":
			*a.to = true
		case coffer.EFORBIDDEN, coffer.ENOTFOUND:
			// No rule grants it, or none covers the path (a principal
			// limited to a sub-folder, looking at a folder above it).
		default:
			return coffer.Rights{}, err
		}
	}
	return r, nil
}
