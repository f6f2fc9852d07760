package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// ErrClosed is what Write returns once the Writer is closing.
var ErrClosed = errors.New("audit: writer closed")

// Defaults of a Writer. DefaultMaxWait sets the size of a batch when
// requests come faster than commits, which is when batches matter: a batch
// then holds what arrives during the wait and the commit before it, and
// each commit costs an fsync whose CPU time (100 to 300 µs on a small VM)
// is spread over the records. A caller alone never waits: the wait only
// happens while other requests are under way.
const (
	DefaultMaxBatch      = 512
	DefaultCommitTimeout = 10 * time.Second
	DefaultMaxWait       = 2 * time.Millisecond
	// DefaultFlushWindow bounds how long a committed record may wait for
	// the disk (see Config.Strict).
	DefaultFlushWindow = 10 * time.Millisecond
	// DefaultCommitSpacing: see Config.CommitSpacing. At most 2,000
	// relaxed commits a second; a read waits at most this long for its
	// batch, and only under load.
	DefaultCommitSpacing = 500 * time.Microsecond
	// DefaultSweepAge is how old a pending record must be before a sweep
	// takes it as orphaned: longer than a request can last (the server's
	// write timeout is 30 s), so that a request under way, on this node
	// or another, moves its own.
	DefaultSweepAge = time.Minute
	// DefaultSweepInterval is how often the Writer sweeps.
	DefaultSweepInterval = 10 * time.Second
)

// Config configures a Writer.
type Config struct {
	Store storage.Store
	// MaxBatch bounds the records of one transaction.
	MaxBatch int
	// CommitTimeout bounds one transaction.
	CommitTimeout time.Duration
	// MaxWait bounds how long a batch waits for the records announced by
	// Expect before it commits without them.
	MaxWait time.Duration
	Now     func() time.Time

	// Strict makes every commit durable before Write returns: an fsync
	// (or a synchronous commit) per batch. Otherwise, on a store that can
	// (storage.Relaxed), a batch's commit returns once the operating
	// system, or the database server, holds it, which survives a crash of
	// the process, and the Writer makes it durable within FlushWindow.
	// The records of changes are never at risk either way: each change
	// commits with a pending copy of its record (see pending.go).
	Strict      bool
	FlushWindow time.Duration
	// CommitSpacing bounds, in relaxed mode, how often batches commit
	// under load (DefaultCommitSpacing): a batch that follows a commit by
	// less waits for the records arriving meanwhile.
	CommitSpacing time.Duration
	// SweepAge and SweepInterval: see DefaultSweepAge. SweepAllAtOpen
	// sweeps every pending record at Open, whatever its age: for a store
	// that no other process writes while this one runs (SQLite), every
	// pending record at Open is an orphan.
	SweepAge       time.Duration
	SweepInterval  time.Duration
	SweepAllAtOpen bool
	// Logger reports what the sweeps and flushes do; nothing when nil.
	Logger *slog.Logger
	// ObserveCommit, when set, is told of every batch the Writer
	// committed: how many records it appended and how long its
	// transaction took (internal/metrics).
	ObserveCommit func(records int, took time.Duration)
}

// Writer appends records to the trail with group commit. Open starts its
// goroutine, Close stops it once every record enqueued is written.
type Writer struct {
	cfg   Config
	mu    sync.RWMutex // Write holds it shared while it enqueues; Close exclusively
	open  bool
	queue chan *pending
	done  chan struct{}
	// expected counts the records announced by Expect and not yet
	// released: requests under way that will write one soon.
	expected atomic.Int64
	commits  atomic.Uint64 // transactions committed
	records  atomic.Uint64 // records they held
	flushes  atomic.Uint64 // flushes of relaxed commits
	swept    atomic.Uint64 // pending records a sweep appended

	// relaxed is the store's relaxed commit, nil in strict mode.
	relaxed storage.Relaxed
	// lastCommit is when the run loop last began a commit (its own).
	lastCommit time.Time
	// dirty wakes the flusher after a relaxed commit.
	dirty chan struct{}
	// failure is the error of the last flush, until one succeeds: Write
	// fails with it at once (audit or fail).
	failure atomic.Pointer[error]
	stop    chan struct{}
	workers sync.WaitGroup
}

// Stats counts what a Writer has committed since it was made.
type Stats struct {
	Commits uint64 // transactions that committed
	Records uint64 // records those transactions held
	Flushes uint64 // flushes that made relaxed commits durable
	Swept   uint64 // orphaned pending records appended by sweeps
}

// Stats returns what the Writer has committed so far.
func (w *Writer) Stats() Stats {
	return Stats{Commits: w.commits.Load(), Records: w.records.Load(), Flushes: w.flushes.Load(), Swept: w.swept.Load()}
}

type pending struct {
	rec *coffer.AuditRecord
	err chan error
}

// NewWriter returns a Writer; Open starts it.
func NewWriter(cfg Config) *Writer {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = DefaultCommitTimeout
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FlushWindow <= 0 {
		cfg.FlushWindow = DefaultFlushWindow
	}
	if cfg.CommitSpacing <= 0 {
		cfg.CommitSpacing = DefaultCommitSpacing
	}
	if cfg.SweepAge <= 0 {
		cfg.SweepAge = DefaultSweepAge
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Writer{cfg: cfg}
	if r, ok := cfg.Store.(storage.Relaxed); ok && !cfg.Strict {
		w.relaxed = r
	}
	return w
}

// Open sweeps the pending records a crash left (all of them with
// SweepAllAtOpen, else those older than SweepAge), then starts the
// goroutines that commit records, flush relaxed commits and sweep. A
// failed first sweep is returned: the trail would miss records.
func (w *Writer) Open(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open {
		return nil
	}
	cutoff := w.cfg.Now().Add(-w.cfg.SweepAge)
	if w.cfg.SweepAllAtOpen {
		cutoff = w.cfg.Now().Add(time.Hour)
	}
	if _, err := w.sweep(ctx, cutoff); err != nil {
		return err
	}
	w.open = true
	w.queue = make(chan *pending, w.cfg.MaxBatch)
	w.done = make(chan struct{})
	w.dirty = make(chan struct{}, 1)
	w.stop = make(chan struct{})
	go w.run(w.queue, w.done)
	w.workers.Add(2)
	go w.flushLoop()
	go w.sweepLoop()
	return nil
}

// Close writes what is enqueued, flushes it, stops the goroutines and
// waits for them. Write fails with ErrClosed afterwards.
func (w *Writer) Close() {
	w.mu.Lock()
	if !w.open {
		w.mu.Unlock()
		return
	}
	w.open = false
	close(w.queue)
	done := w.done
	w.mu.Unlock()
	<-done
	close(w.stop)
	w.workers.Wait()
}

// Write appends rec to the trail and returns once the transaction that
// holds it has committed, or failed. It numbers the record and sets its
// hashes. A nil error means the record survives a crash of the process,
// and is durable (Strict) or will be within the flush window; a staged
// record (rec.Staged) replaces its pending copy. Write fails at once while
// the last flush failed.
func (w *Writer) Write(ctx context.Context, rec *coffer.AuditRecord) error {
	if err := w.failure.Load(); err != nil {
		return *err
	}
	p := &pending{rec: rec, err: make(chan error, 1)}
	w.mu.RLock()
	if !w.open {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- p:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	// Once enqueued the record is committed or not whatever ctx does: wait
	// for the answer, which comes within the commit timeout.
	return <-p.err
}

// Expect announces a record that a request under way will Write soon. A
// batch waits, up to Config.MaxWait, while announced records are missing
// from it: one commit then carries the records of all the requests under
// way, where committing whatever happened to be queued would cost one
// commit (and one fsync) for every few records. The request calls release
// just before it calls Write, or when it will not write; release may be
// called more than once.
func (w *Writer) Expect() (release func()) {
	w.expected.Add(1)
	var once sync.Once
	return func() { once.Do(func() { w.expected.Add(-1) }) }
}

func (w *Writer) run(queue <-chan *pending, done chan<- struct{}) {
	defer close(done)
	batch := make([]*pending, 0, w.cfg.MaxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for p := range queue {
		batch = append(batch[:0], p)
		waiting := false
	fill:
		for len(batch) < w.cfg.MaxBatch {
			select {
			case q, ok := <-queue:
				if !ok {
					break fill
				}
				batch = append(batch, q)
				continue
			default:
			}
			// The queue is empty. While more records are announced than
			// the batch holds, wait for them, once, for at most MaxWait:
			// the batch commits once it holds at least half of the records
			// under way, so that the others are computed while it commits.
			if w.expected.Load() <= int64(len(batch)) {
				break
			}
			if !waiting {
				waiting = true
				timer.Reset(w.cfg.MaxWait)
			}
			select {
			case q, ok := <-queue:
				if !ok {
					break fill
				}
				batch = append(batch, q)
			case <-timer.C:
				waiting = false
				break fill
			}
		}
		if waiting {
			timer.Stop()
		}
		// A relaxed commit is quick, so batches would stay as small as
		// what arrives during one, and each commit costs the same CPU
		// whatever it holds. Under load (the last commit was less than
		// CommitSpacing ago), gather what arrives until the spacing has
		// passed: the commit rate is bounded, batches grow with the load,
		// and a lone request never waits.
		if w.relaxed != nil && !w.lastCommit.IsZero() && w.expected.Load() > 0 {
			if wait := w.cfg.CommitSpacing - time.Since(w.lastCommit); wait > 0 && len(batch) < w.cfg.MaxBatch {
				timer.Reset(wait)
			gather:
				for len(batch) < w.cfg.MaxBatch {
					select {
					case q, ok := <-queue:
						if !ok {
							break gather
						}
						batch = append(batch, q)
					case <-timer.C:
						break gather
					}
				}
				timer.Stop()
			}
		}
		w.lastCommit = time.Now()
		err := w.commit(batch)
		for _, q := range batch {
			q.err <- err
		}
		clear(batch)
	}
}

// commit writes a batch in one transaction. A conflict (another node
// appended the same Seq, which the head lock prevents on the stores coffer
// has) is retried.
func (w *Writer) commit(batch []*pending) error {
	recs := make([]*coffer.AuditRecord, len(batch))
	now := w.cfg.Now()
	for i, p := range batch {
		normalize(p.rec, now)
		recs[i] = p.rec
	}
	start := time.Now()
	n, err := w.update(func(ctx context.Context, tx storage.Tx) (int, error) {
		head, err := lockHead(ctx, tx)
		if err != nil {
			return 0, err
		}
		kept, err := settle(ctx, tx, recs)
		if err != nil {
			return 0, err
		}
		return len(kept), appendAt(ctx, tx, head, kept)
	})
	if err != nil {
		return fmt.Errorf("audit: write %d records: %w", len(recs), err)
	}
	w.records.Add(uint64(n))
	if w.cfg.ObserveCommit != nil {
		w.cfg.ObserveCommit(n, time.Since(start))
	}
	return nil
}

// update runs fn in one transaction, relaxed unless the Writer is strict,
// retrying a conflict; fn returns how many records it appended.
func (w *Writer) update(fn func(ctx context.Context, tx storage.Tx) (int, error)) (int, error) {
	var (
		n   int
		err error
	)
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CommitTimeout)
		body := func(tx storage.Tx) error {
			n, err = fn(ctx, tx)
			return err
		}
		if w.relaxed != nil {
			err = w.relaxed.UpdateRelaxed(ctx, body)
		} else {
			err = w.cfg.Store.Update(ctx, body)
		}
		cancel()
		if !errors.Is(err, storage.ErrConflict) {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	w.commits.Add(1)
	if w.relaxed != nil {
		select {
		case w.dirty <- struct{}{}:
		default:
		}
	}
	return n, nil
}

// flushLoop makes relaxed commits durable within the flush window: after
// a commit, it waits half the window, for the commits that follow to share
// the flush, then flushes. A failed flush makes Write fail until one
// succeeds; it is retried every half window.
func (w *Writer) flushLoop() {
	defer w.workers.Done()
	if w.relaxed == nil {
		<-w.stop
		return
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-w.dirty:
		case <-w.stop:
			w.flush()
			return
		}
		for {
			timer.Reset(w.cfg.FlushWindow / 2)
			select {
			case <-timer.C:
			case <-w.stop:
				timer.Stop()
				w.flush()
				return
			}
			if w.flush() {
				break
			}
		}
	}
}

// flush makes the commits so far durable and reports whether it could.
func (w *Writer) flush() bool {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CommitTimeout)
	defer cancel()
	if err := w.relaxed.Flush(ctx); err != nil {
		err = fmt.Errorf("audit: flush: %w", err)
		if w.failure.Swap(&err) == nil {
			w.cfg.Logger.Error("audit records cannot be made durable: requests fail until they can", "error", err)
		}
		return false
	}
	w.flushes.Add(1)
	if w.failure.Swap(nil) != nil {
		w.cfg.Logger.Info("audit records are durable again")
	}
	return true
}

// sweepLoop sweeps, every SweepInterval, the pending records older than
// SweepAge.
func (w *Writer) sweepLoop() {
	defer w.workers.Done()
	t := time.NewTicker(w.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CommitTimeout)
			if _, err := w.sweep(ctx, w.cfg.Now().Add(-w.cfg.SweepAge)); err != nil {
				w.cfg.Logger.Error("audit: sweep of pending records failed", "error", err)
			}
			cancel()
		case <-w.stop:
			return
		}
	}
}

// sweep appends to the chain, as they are, the pending records written
// before cutoff: the records of changes whose request never delivered its
// own (the process died, or the request's record failed). It returns how
// many it appended.
func (w *Writer) sweep(ctx context.Context, cutoff time.Time) (int, error) {
	// Most sweeps find nothing: look first, without the head's lock.
	found := false
	err := w.cfg.Store.View(ctx, func(tx storage.Tx) error {
		ptx, ok := tx.(storage.PendingAuditTx)
		if !ok {
			return nil
		}
		ps, err := ptx.ListPendingAudit(ctx, cutoff, 1)
		found = len(ps) > 0
		return err
	})
	if err != nil || !found {
		return 0, err
	}
	total := 0
	for {
		n, err := w.update(func(ctx context.Context, tx storage.Tx) (int, error) {
			head, err := lockHead(ctx, tx)
			if err != nil {
				return 0, err
			}
			ptx, ok := tx.(storage.PendingAuditTx)
			if !ok {
				return 0, nil // a store without pending records has none to sweep
			}
			ps, err := ptx.ListPendingAudit(ctx, cutoff, w.cfg.MaxBatch)
			if err != nil || len(ps) == 0 {
				return 0, err
			}
			recs := make([]*coffer.AuditRecord, 0, len(ps))
			for _, p := range ps {
				r, err := decodePending(p)
				if err != nil {
					return 0, err
				}
				if _, err := ptx.TakePendingAudit(ctx, p.RequestID); errors.Is(err, storage.ErrNotFound) {
					continue // taken meanwhile by its request, or another sweep
				} else if err != nil {
					return 0, err
				}
				recs = append(recs, r)
			}
			return len(recs), appendAt(ctx, tx, head, recs)
		})
		if err != nil {
			return total, fmt.Errorf("audit: sweep pending records: %w", err)
		}
		if n > 0 {
			w.records.Add(uint64(n))
			w.swept.Add(uint64(n))
			w.cfg.Logger.Warn("audit: appended the records of changes whose requests did not deliver them", "records", n)
		}
		total += n
		if n < w.cfg.MaxBatch {
			return total, nil
		}
	}
}

// Sweep appends every pending record written before cutoff (see sweep).
func (w *Writer) Sweep(ctx context.Context, cutoff time.Time) (int, error) {
	return w.sweep(ctx, cutoff)
}

// Append chains recs after the head of the trail and appends them, as one
// block, in tx, which must be a write transaction of a store that keeps the
// trail.
func Append(ctx context.Context, tx storage.Tx, recs []*coffer.AuditRecord) error {
	head, err := lockHead(ctx, tx)
	if err != nil {
		return err
	}
	return appendAt(ctx, tx, head, recs)
}

// lockHead reads the chain's head in tx, and locks it until tx ends: every
// transaction that appends takes this lock first, then whatever else it
// locks (pending records), so that two of them never wait for each other
// in opposite orders.
func lockHead(ctx context.Context, tx storage.Tx) (Head, error) {
	head := Head{Hash: make([]byte, HashSize)}
	b, err := tx.GetMeta(ctx, HeadMeta)
	switch {
	case err == nil:
		return DecodeHead(b)
	case !errors.Is(err, storage.ErrNotFound):
		return Head{}, err
	}
	return head, nil
}

// appendAt chains recs after head, which tx locked, and appends them as one
// block.
func appendAt(ctx context.Context, tx storage.Tx, head Head, recs []*coffer.AuditRecord) error {
	atx, ok := tx.(storage.AuditTx)
	if !ok {
		return errors.New("audit: the store does not keep an audit trail")
	}
	if len(recs) == 0 {
		return nil
	}
	var sl sealer
	blk, head := sl.seal(recs, head)
	if err := atx.AppendAuditBlock(ctx, blk); err != nil {
		return err
	}
	return tx.PutMeta(ctx, HeadMeta, head.encode())
}
