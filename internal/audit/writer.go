package audit

import (
	"context"
	"errors"
	"fmt"
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
}

// Stats counts what a Writer has committed since it was made.
type Stats struct {
	Commits uint64 // transactions that committed
	Records uint64 // records those transactions held
}

// Stats returns what the Writer has committed so far.
func (w *Writer) Stats() Stats {
	return Stats{Commits: w.commits.Load(), Records: w.records.Load()}
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
	return &Writer{cfg: cfg}
}

// Open starts the goroutine that commits the records.
func (w *Writer) Open() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open {
		return
	}
	w.open = true
	w.queue = make(chan *pending, w.cfg.MaxBatch)
	w.done = make(chan struct{})
	go w.run(w.queue, w.done)
}

// Close writes what is enqueued, stops the goroutine and waits for it.
// Write fails with ErrClosed afterwards.
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
}

// Write appends rec to the trail and returns once the transaction that
// holds it has committed, or failed. It numbers the record and sets its
// hashes. A nil error means the record is durable.
func (w *Writer) Write(ctx context.Context, rec *coffer.AuditRecord) error {
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
	var err error
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CommitTimeout)
		err = w.cfg.Store.Update(ctx, func(tx storage.Tx) error { return Append(ctx, tx, recs) })
		cancel()
		if !errors.Is(err, storage.ErrConflict) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("audit: write %d records: %w", len(recs), err)
	}
	w.commits.Add(1)
	w.records.Add(uint64(len(recs)))
	return nil
}

// Append chains recs after the head of the trail and appends them, as one
// block, in tx, which must be a write transaction of a store that keeps the
// trail.
func Append(ctx context.Context, tx storage.Tx, recs []*coffer.AuditRecord) error {
	atx, ok := tx.(storage.AuditTx)
	if !ok {
		return errors.New("audit: the store does not keep an audit trail")
	}
	head := Head{Hash: make([]byte, HashSize)}
	b, err := tx.GetMeta(ctx, HeadMeta) // locks the head until the transaction ends
	switch {
	case err == nil:
		if head, err = DecodeHead(b); err != nil {
			return err
		}
	case !errors.Is(err, storage.ErrNotFound):
		return err
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
