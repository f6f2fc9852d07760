package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/adminapi"
	"github.com/coffer-dev/coffer/internal/engine"
)

// The admin API reads versions with their access times from the engine.
var _ adminapi.VersionReader = (*engine.Engine)(nil)

// The admin API rotates fields of key_value secrets through the engine.
var _ adminapi.FieldRotator = (*engine.Engine)(nil)

// The admin API changes project settings through the engine.
var _ adminapi.ProjectSettingsChanger = (*engine.Engine)(nil)

// The admin API exports and imports secrets through the engine.
var _ coffer.ExportService = (*engine.Engine)(nil)

// Bounds of one flush of access times: the periodic ones, and the last one
// at Close, which runs even when Close's context is done so that a clean
// stop keeps every time noted.
const (
	accessFlushTimeout = 30 * time.Second
	finalFlushTimeout  = 10 * time.Second
)

// accessFlusher writes the access times the engine noted (engine
// FlushAccessTimes) every interval, and at once when they fill the engine's
// bound. Every node runs one, jobs lease or not: each holds the times of
// the reads it served. It is started by Open and stopped by Close, which
// flushes once more before the store closes; Crash loses what was not
// flushed, which is at most one interval of access times.
type accessFlusher struct {
	engine   *engine.Engine
	interval time.Duration
	log      *slog.Logger
	stop     chan struct{}
	done     chan struct{}
}

// startAccessFlusher starts the flush loop.
func startAccessFlusher(e *engine.Engine, interval time.Duration, log *slog.Logger) *accessFlusher {
	f := &accessFlusher{engine: e, interval: interval, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

func (f *accessFlusher) run() {
	defer close(f.done)
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	full := f.engine.AccessTimesFull()
	for {
		select {
		case <-f.stop:
			return
		case <-tick.C:
		case <-full:
		}
		f.flush(context.Background(), accessFlushTimeout)
	}
}

// flush runs one flush and logs its failure: the times wait for the next.
func (f *accessFlusher) flush(ctx context.Context, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := f.engine.FlushAccessTimes(ctx); err != nil {
		f.log.Error("could not record access times; they are kept for the next try", "err", err)
	}
}

// close stops the loop and, unless abandon, flushes what is left.
func (f *accessFlusher) close(abandon bool) {
	if f == nil {
		return
	}
	close(f.stop)
	<-f.done
	if !abandon {
		f.flush(context.Background(), finalFlushTimeout)
	}
}
