package node

import (
	"context"
	"sync"

	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/storage"
)

// listener passes the changes other nodes commit to the engine's caches,
// for a store shared by several nodes. It owns one goroutine.
type listener struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// listen starts passing the changes of s to e, if s reports them.
func listen(s storage.Store, e *engine.Engine) *listener {
	l := &listener{}
	n, ok := s.(storage.Notifier)
	if !ok {
		return l
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Go(func() { _ = n.Listen(ctx, e.Invalidate) })
	return l
}

// close stops the listener and waits for it.
func (l *listener) close() {
	if l == nil || l.cancel == nil {
		return
	}
	l.cancel()
	l.wg.Wait()
}
