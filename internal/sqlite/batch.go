package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

// Group commit.
//
// A durable commit costs an fsync of the WAL, which on a common disk takes
// far longer than the statements of a write. With one write connection,
// writers that each commit on their own get at most one commit per fsync,
// however many they are. So concurrent Updates share transactions: they
// queue, and the committer, a goroutine of the DB, opens one transaction,
// gives it to each queued caller in turn, inside a savepoint of its own, and
// commits once for all of them.
//
// What a caller sees does not change:
//
//   - fn runs once, in the caller's goroutine (a panic or runtime.Goexit
//     unwinds the caller, as before), and alone: the callers of a batch run
//     one after another, each seeing what those before it wrote, in the
//     order they queued. Writes stay serializable.
//   - An fn that fails, panics or exits is rolled back to its savepoint: it
//     leaves nothing, and only its caller sees its error. The others of the
//     batch go on.
//   - Update returns nil once the transaction that holds fn's writes has
//     committed durably; the commit's error otherwise, for every caller
//     whose fn succeeded.
//   - A caller whose ctx ends while it is queued returns ctx.Err() without
//     running fn. Once fn ran, the caller waits for the commit whatever its
//     ctx says: a change that commits is never reported as failed.
//
// The batch's transaction is begun with a context no caller can cancel. A
// caller's ctx still ends its own statements, but between them, never in the
// middle of one: the driver interrupts a statement whose context ends, and
// SQLite rolls back the whole transaction of an interrupted write, which
// would undo the work of every caller of the batch (see tx.stmtContext).
//
// A batch takes, in order, the calls queued when it starts and those that
// arrive while it runs, up to Options.MaxBatch calls, and stops taking new
// ones once it has run Options.MaxBatchTime: what waits then goes to the
// next batch.
//
// A lone writer, one that finds no batch running or queued and none ended
// within MaxBatchTime, runs its Update as a transaction of its own, in its
// goroutine, without the committer: it pays no handoff between goroutines.
// Those that arrive meanwhile queue for the next batch. The condition on the
// last batch keeps writers that come back from a batch, one after another,
// from taking turns alone: the first would commit alone while the others
// queue, which halves the writes per commit.
//
// UpdateRelaxed does not go through the committer: it is its own transaction
// on the write connection, with its own synchronous setting, and waits for
// the connection between batches.

// Defaults of Options.
const (
	DefaultMaxBatch     = 64
	DefaultMaxBatchTime = 10 * time.Millisecond
)

// Options tune a DB. The zero value gives the defaults.
type Options struct {
	// Unbatched makes every Update a transaction of its own, with its own
	// commit (and fsync), as coffer did before group commit. It is there
	// to compare the two.
	Unbatched bool
	// MaxBatch bounds how many Updates share one transaction; 0 means
	// DefaultMaxBatch.
	MaxBatch int
	// MaxBatchTime bounds the time a batch takes in new Updates, from its
	// start, so that the first caller's wait stays bounded; 0 means
	// DefaultMaxBatchTime. A call that runs longer delays the batch, as it
	// would delay any writer.
	MaxBatchTime time.Duration
}

// Stats counts what the write connection did since Open.
type Stats struct {
	// Updates counts the Update calls whose fn ran.
	Updates uint64
	// Commits counts the transactions Update committed: fewer than Updates
	// when writers shared commits.
	Commits uint64
}

// Stats returns the DB's counters.
func (db *DB) Stats() Stats {
	return Stats{Updates: db.updates.Load(), Commits: db.commits.Load()}
}

// errClosed is the error of an Update after Close.
var errClosed = errors.New("sqlite: the store is closed")

// errAborted is what a caller reports to the committer when its fn panicked
// or called runtime.Goexit: fn did not return.
var errAborted = errors.New("sqlite: the function did not return")

// The states of a call.
const (
	queued    int32 = iota
	taken           // the committer has it: it will run or be answered
	abandoned       // its caller gave up before the committer took it
)

// call is one Update waiting in the committer's queue, or running.
type call struct {
	ctx   context.Context
	state atomic.Int32
	turn  chan *tx   // the transaction to run fn in
	ran   chan error // fn's outcome, or errAborted
	done  chan error // Update's result
}

// committer runs the batches. Its goroutine is started by Open and stopped
// by Close.
type committer struct {
	db      *DB
	max     int
	maxTime time.Duration

	mu     sync.Mutex
	queue  []*call
	busy   bool      // a batch or a lone Update has the write connection
	ended  time.Time // when the last batch ended
	closed bool

	wake    chan struct{} // capacity 1: the queue changed, or closed
	stopped chan struct{} // closed when the goroutine returns
}

// startCommitter starts db's committer.
func (db *DB) startCommitter(o Options) {
	b := &committer{
		db:      db,
		max:     o.MaxBatch,
		maxTime: o.MaxBatchTime,
		wake:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	if b.max <= 0 {
		b.max = DefaultMaxBatch
	}
	if b.maxTime <= 0 {
		b.maxTime = DefaultMaxBatchTime
	}
	db.batch = b
	go b.run()
}

// close stops taking calls, lets the goroutine run those queued, and waits
// for it to return.
func (b *committer) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
	<-b.stopped
}

// signal wakes the goroutine.
func (b *committer) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// update is Update through the committer.
func (b *committer) update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	c := &call{
		ctx:  ctx,
		turn: make(chan *tx, 1),
		ran:  make(chan error, 1),
		done: make(chan error, 1),
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errClosed
	}
	if !b.busy && len(b.queue) == 0 && time.Since(b.ended) > b.maxTime {
		b.busy = true
		b.mu.Unlock()
		defer b.idle()
		return b.db.updateAlone(ctx, fn)
	}
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	b.signal()

	var t *tx
	select {
	case t = <-c.turn:
	case err := <-c.done:
		return err
	case <-ctx.Done():
		if c.state.CompareAndSwap(queued, abandoned) {
			return fmt.Errorf("sqlite: begin: %w", ctx.Err())
		}
		// The committer took the call first: it answers soon.
		select {
		case t = <-c.turn:
		case err := <-c.done:
			return err
		}
	}

	returned := false
	defer func() {
		if !returned {
			// fn panicked or called runtime.Goexit: wait until its
			// writes are undone, and let the caller go on unwinding.
			c.ran <- errAborted
			<-c.done
		}
	}()
	err := fn(t)
	returned = true
	c.ran <- err
	return <-c.done
}

// idle ends a lone Update, and wakes the goroutine if calls queued
// meanwhile.
func (b *committer) idle() {
	b.mu.Lock()
	b.busy = false
	wake := len(b.queue) > 0 || b.closed
	b.mu.Unlock()
	if wake {
		b.signal()
	}
}

// run runs batches while calls are queued and no lone Update runs, until
// close.
func (b *committer) run() {
	defer close(b.stopped)
	for range b.wake {
		for {
			b.mu.Lock()
			if b.busy || len(b.queue) == 0 {
				done := b.closed && !b.busy && len(b.queue) == 0
				b.mu.Unlock()
				if done {
					return
				}
				break
			}
			b.busy = true
			b.mu.Unlock()
			b.runBatch()
			b.mu.Lock()
			b.busy = false
			b.ended = time.Now()
			b.mu.Unlock()
		}
	}
}

// next takes the first call of the queue, or returns nil.
func (b *committer) next() *call {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		return nil
	}
	c := b.queue[0]
	b.queue[0] = nil
	b.queue = b.queue[1:]
	return c
}

// The statements around each call of a batch.
const (
	savepointSQL  = "SAVEPOINT call"
	releaseSQL    = "RELEASE call"
	rollbackToSQL = "ROLLBACK TO call"
)

// runBatch runs one batch of the queued calls.
func (b *committer) runBatch() {
	var (
		t       *sql.Tx
		start   time.Time
		n       int
		settled []*call // calls whose fn succeeded, waiting for the commit
	)
	for n < b.max && (t == nil || time.Since(start) < b.maxTime) {
		c := b.next()
		if c == nil {
			break
		}
		n++
		if !c.state.CompareAndSwap(queued, taken) {
			continue // abandoned
		}
		if err := c.ctx.Err(); err != nil {
			c.done <- fmt.Errorf("sqlite: begin: %w", err)
			continue
		}
		if t == nil {
			var err error
			// No caller can cancel the transaction of all. BEGIN
			// IMMEDIATE (the _txlock parameter) takes the write lock now.
			if t, err = b.db.write.BeginTx(context.Background(), nil); err != nil {
				c.done <- fmt.Errorf("sqlite: begin: %w", classify(err))
				continue
			}
			start = time.Now()
		}
		if err := b.exec(t, savepointSQL); err != nil {
			// A transaction that cannot take a savepoint is broken.
			c.done <- fmt.Errorf("sqlite: savepoint: %w", classify(err))
			b.abort(t, settled, err)
			return
		}
		b.db.updates.Add(1)
		c.turn <- b.db.newTx(t, b.db.writeStmts, true, true)
		err := <-c.ran
		if err == nil {
			if rerr := b.exec(t, releaseSQL); rerr != nil {
				b.abort(t, append(settled, c), rerr)
				return
			}
			settled = append(settled, c)
			continue
		}
		rerr := b.exec(t, rollbackToSQL)
		if rerr == nil {
			rerr = b.exec(t, releaseSQL)
		}
		c.done <- err // the caller's own error, as fn returned it
		if rerr != nil {
			// fn's error, or the interruption of one of its statements,
			// rolled back the whole transaction (SQLite does so for
			// SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM...).
			b.abort(t, settled, rerr)
			return
		}
	}
	if t == nil {
		return
	}
	if len(settled) == 0 {
		_ = t.Rollback() // every call failed: nothing to commit
		return
	}
	err := t.Commit()
	if err != nil {
		err = fmt.Errorf("sqlite: commit: %w", classify(err))
	} else {
		b.db.commits.Add(1)
	}
	for _, c := range settled {
		c.done <- err
	}
}

// exec runs one of the batch's own statements.
func (b *committer) exec(t *sql.Tx, query string) error {
	ctx := context.Background()
	_, err := t.StmtContext(ctx, b.db.writeStmts[query]).ExecContext(ctx)
	return err
}

// abort rolls back a batch whose transaction broke, and fails the calls
// that had succeeded in it with cause, the error that showed it broken.
func (b *committer) abort(t *sql.Tx, settled []*call, cause error) {
	_ = t.Rollback()
	err := fmt.Errorf("sqlite: the transaction shared with other writes was rolled back: %w", classify(cause))
	for _, c := range settled {
		c.done <- err
	}
}
