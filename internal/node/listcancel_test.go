package node_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/server"
	"github.com/coffer-dev/coffer/internal/storage"
)

// listingStore counts the read transactions a caller's requests open (the
// pages of a listing: authentication reads before there is a caller), and
// holds the one numbered hold until the request's context ends.
type listingStore struct {
	storage.Store
	hold    int32
	views   atomic.Int32
	held    chan struct{} // closed when the held transaction starts waiting
	ctxErr  chan error    // the error of the held request's context
	entered atomic.Bool
}

func (s *listingStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	if coffer.CallerFromContext(ctx) != nil && s.views.Add(1) == s.hold && s.entered.CompareAndSwap(false, true) {
		close(s.held)
		<-ctx.Done()
		s.ctxErr <- ctx.Err()
	}
	return s.Store.View(ctx, fn)
}

// listingServer serves an engine over st, with a trail that reports each
// request's record on ended.
func listingServer(t *testing.T, n *nodetest.Node, st *listingStore, timeout time.Duration) (*vault.Client, <-chan *coffer.AuditRecord) {
	t.Helper()
	eng := n.OpenEngine(t, nil, func(s storage.Store) storage.Store { st.Store = s; return st })
	ended := make(chan *coffer.AuditRecord, 16)
	srv, err := server.New(server.Config{
		Service: eng, RequestTimeout: timeout,
		Audit: func(_ context.Context, rec *coffer.AuditRecord) error { ended <- rec; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	c, err := vault.NewClient(&vault.Config{Address: hs.URL, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(n.Creds.SecretKey)
	return c, ended
}

// TestListingStopsWhenClientLeaves lists a folder of 1,111 keys with
// their metadata (two pages of the engine's, and the empty one that ends
// the listing) through the Vault client, which leaves while the second
// page is read: the server reads no page after it.
func TestListingStopsWhenClientLeaves(t *testing.T) {
	n := nodetest.Start(t)
	loadFolder(t, n, n.Creds.ProjectID, 1100)
	st := &listingStore{hold: 2, held: make(chan struct{}), ctxErr: make(chan error, 1)}
	c, ended := listingServer(t, n, st, 0)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Logical().ListWithContext(ctx, "secret/detailed-metadata/big")
		done <- err
	}()
	<-st.held
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client's listing: %v, want it cancelled", err)
	}
	if err := <-st.ctxErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the server's request context ended with %v, want canceled", err)
	}
	rec := <-ended
	if got := st.views.Load(); got != 2 {
		t.Errorf("the listing read %d pages, want 2: it went on after its client left", got)
	}
	if rec.Status == 200 {
		t.Errorf("the cancelled listing is recorded as %d", rec.Status)
	}
}

// TestListingStopsAtTimeout holds a listing's first page until the
// request's time is up: the listing ends there, with an error, whether or
// not the client is still waiting.
func TestListingStopsAtTimeout(t *testing.T) {
	n := nodetest.Start(t)
	loadFolder(t, n, n.Creds.ProjectID, 1100)
	st := &listingStore{hold: 1, held: make(chan struct{}), ctxErr: make(chan error, 1)}
	c, ended := listingServer(t, n, st, time.Second)

	_, err := c.Logical().ListWithContext(t.Context(), "secret/detailed-metadata/big")
	if err == nil {
		t.Fatal("the listing succeeded after its time was up")
	}
	if err := <-st.ctxErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the request context ended with %v, want its deadline", err)
	}
	<-ended
	if got := st.views.Load(); got != 1 {
		t.Errorf("the listing read %d pages, want 1", got)
	}
}
