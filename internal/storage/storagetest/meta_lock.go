package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

// testMetaLock has several transactions read a meta value and write it when
// missing, as nodes starting together on an empty store do for their first
// start: GetMeta inside Update must serialize them, so that exactly one
// writes and every other sees what it wrote.
func testMetaLock(t *testing.T, s storage.Store) {
	const starters = 6
	ctx := t.Context()
	var inside, wrote atomic.Int32
	seen := make([]string, starters)
	var wg sync.WaitGroup
	for i := range starters {
		wg.Go(func() {
			mine := fmt.Sprintf("starter-%d", i)
			err := s.Update(ctx, func(tx storage.Tx) error {
				v, err := tx.GetMeta(ctx, "first-start")
				if err == nil {
					seen[i] = string(v)
					return nil
				} else if !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d transactions found the value missing at once", n)
				}
				defer inside.Add(-1)
				time.Sleep(5 * time.Millisecond) // give a racing starter its chance
				wrote.Add(1)
				seen[i] = mine
				return tx.PutMeta(ctx, "first-start", []byte(mine))
			})
			if err != nil {
				t.Errorf("Update of %s: %v", mine, err)
			}
		})
	}
	wg.Wait()
	if n := wrote.Load(); n != 1 {
		t.Fatalf("%d transactions wrote the value, want 1", n)
	}
	stored := string(read(t, s, func(ctx context.Context, tx storage.Tx) ([]byte, error) {
		return tx.GetMeta(ctx, "first-start")
	}))
	for i, v := range seen {
		if v != stored {
			t.Errorf("starter %d saw %q, want the stored %q", i, v, stored)
		}
	}
}
