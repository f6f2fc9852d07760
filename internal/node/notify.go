package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/cache"
)

// listener passes the changes other nodes commit to the read cache and the
// engine's caches, for a store shared by several nodes. With a read cache it
// also probes its own listening (storage.ChangeProbe) every probeEvery, and
// confirms to the cache, when a probe comes back, that every change
// committed before the probe was sent has been applied: the cache serves
// hits only while a confirmation is recent (cache.Config.MaxStale), so a
// listening connection that stops delivering, silently or not, stops the
// hits too. It owns its goroutines.
type listener struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// listen starts passing the changes of s to c (when not nil) and e, if s
// reports them.
func listen(s storage.Store, c *cache.Store, e *engine.Engine, probeEvery time.Duration, log *slog.Logger) *listener {
	l := &listener{}
	n, ok := s.(storage.Notifier)
	if !ok {
		return l
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	var b [8]byte
	_, _ = rand.Read(b[:])
	self := hex.EncodeToString(b[:])
	// listening is signalled at each reset, so that the first probe of a
	// new listening connection goes at once.
	listening := make(chan struct{}, 1)
	l.wg.Go(func() {
		_ = n.Listen(ctx, func(ch storage.Change) {
			if ch.Kind == storage.ChangeReset {
				select {
				case listening <- struct{}{}:
				default:
				}
			}
			if ch.Kind == storage.ChangeRootKey {
				log.Warn("the root key of the store was rotated: this node keeps serving secrets, " +
					"but refuses what needs the root key until it is restarted with the new one")
				return
			}
			if ch.Kind == storage.ChangeProbe {
				if at, ok := probeTime(self, ch.ID); ok && c != nil {
					c.Confirm(at)
				}
				return
			}
			if c != nil {
				c.Invalidate(ch)
			}
			e.Invalidate(ch)
		})
	})
	if c != nil && probeEvery > 0 {
		l.wg.Go(func() { probe(ctx, s, self, probeEvery, listening, log) })
	}
	return l
}

// probe publishes a probe of this node every interval, and as soon as the
// listener listens anew, until ctx ends.
func probe(ctx context.Context, s storage.Store, self string, every time.Duration, listening <-chan struct{}, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		sent := time.Now()
		err := s.Update(ctx, func(tx storage.Tx) error {
			return tx.(storage.NotifyTx).Notify(ctx, storage.Change{
				Kind: storage.ChangeProbe, ID: self + "/" + strconv.FormatInt(sent.UnixNano(), 10)})
		})
		if err != nil && ctx.Err() == nil && !failing {
			log.Warn("read cache: cannot probe the change notifications; reads go to the database until it can", "error", err)
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-listening:
		}
	}
}

// probeTime returns the time a probe of this node was sent.
func probeTime(self, id string) (time.Time, bool) {
	from, ns, ok := strings.Cut(id, "/")
	if !ok || from != self {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// close stops the listener and waits for it.
func (l *listener) close() {
	if l == nil || l.cancel == nil {
		return
	}
	l.cancel()
	l.wg.Wait()
}
