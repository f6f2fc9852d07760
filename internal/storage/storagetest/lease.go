package storagetest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/storage"
)

// leases returns the store's leases, or skips the test when it has none.
func leases(t *testing.T, s storage.Store) storage.Leases {
	t.Helper()
	l, ok := s.(storage.Leases)
	if !ok {
		t.Skip("the store does not implement storage.Leases")
	}
	return l
}

// acquire calls AcquireLease and fails the test on an error.
func acquire(t *testing.T, l storage.Leases, name, holder string, ttl time.Duration) (int64, bool) {
	t.Helper()
	token, ok, err := l.AcquireLease(t.Context(), name, holder, ttl)
	if err != nil {
		t.Fatalf("AcquireLease(%s, %s): %v", name, holder, err)
	}
	return token, ok
}

// checkLease returns what CheckLease returns inside an Update.
func checkLease(t *testing.T, s storage.Store, name string, token int64) error {
	t.Helper()
	ctx := t.Context()
	return s.Update(ctx, func(tx storage.Tx) error {
		lt, ok := tx.(storage.LeaseTx)
		if !ok {
			t.Fatal("the store implements storage.Leases but its Tx not storage.LeaseTx")
		}
		return lt.CheckLease(ctx, name, token)
	})
}

func testLease(t *testing.T, s storage.Store) {
	l := leases(t, s)
	const long = time.Minute

	// A first holder gets the first term; renewing keeps it; another holder
	// waits.
	token, ok := acquire(t, l, "jobs", "node-a", long)
	if !ok || token != 1 {
		t.Fatalf("first AcquireLease = %d, %v; want 1, true", token, ok)
	}
	if token, ok := acquire(t, l, "jobs", "node-a", long); !ok || token != 1 {
		t.Errorf("renewal = %d, %v; want 1, true", token, ok)
	}
	if token, ok := acquire(t, l, "jobs", "node-b", long); ok || token != 0 {
		t.Errorf("AcquireLease by another holder during the term = %d, %v; want 0, false", token, ok)
	}
	// Leases are independent.
	if token, ok := acquire(t, l, "other", "node-b", long); !ok || token != 1 {
		t.Errorf("AcquireLease of another lease = %d, %v; want 1, true", token, ok)
	}

	if err := checkLease(t, s, "jobs", 1); err != nil {
		t.Errorf("CheckLease of the running term: %v", err)
	}
	for _, c := range []struct {
		name  string
		token int64
	}{{"jobs", 2}, {"jobs", 0}, {"unknown", 1}} {
		if err := checkLease(t, s, c.name, c.token); !errors.Is(err, storage.ErrLeaseLost) {
			t.Errorf("CheckLease(%s, %d) = %v, want ErrLeaseLost", c.name, c.token, err)
		}
	}

	// Releasing with a stale token or another holder's name does nothing;
	// the holder's release lets the next holder in at once, with the next
	// token, and fences the released term.
	if err := l.ReleaseLease(t.Context(), "jobs", "node-a", 7); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if err := l.ReleaseLease(t.Context(), "jobs", "node-b", 1); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if _, ok := acquire(t, l, "jobs", "node-b", long); ok {
		t.Fatal("another holder took the lease after releases that did not apply")
	}
	if err := l.ReleaseLease(t.Context(), "jobs", "node-a", 1); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if token, ok := acquire(t, l, "jobs", "node-b", long); !ok || token != 2 {
		t.Errorf("AcquireLease after release = %d, %v; want 2, true", token, ok)
	}
	if err := checkLease(t, s, "jobs", 1); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("CheckLease of the released term = %v, want ErrLeaseLost", err)
	}

	t.Run("expiry", func(t *testing.T) {
		const short = time.Millisecond
		if token, ok := acquire(t, l, "short", "node-a", short); !ok || token != 1 {
			t.Fatalf("AcquireLease = %d, %v; want 1, true", token, ok)
		}
		time.Sleep(20 * time.Millisecond)
		if err := checkLease(t, s, "short", 1); !errors.Is(err, storage.ErrLeaseLost) {
			t.Errorf("CheckLease of an expired term = %v, want ErrLeaseLost", err)
		}
		// The same holder, late, starts a new term.
		if token, ok := acquire(t, l, "short", "node-a", short); !ok || token != 2 {
			t.Errorf("AcquireLease by the holder after expiry = %d, %v; want 2, true", token, ok)
		}
		time.Sleep(20 * time.Millisecond)
		// Another holder takes an expired lease.
		if token, ok := acquire(t, l, "short", "node-b", long); !ok || token != 3 {
			t.Errorf("AcquireLease by another holder after expiry = %d, %v; want 3, true", token, ok)
		}
		if _, ok := acquire(t, l, "short", "node-a", long); ok {
			t.Error("the previous holder took the lease back during the new term")
		}
	})

	t.Run("fenced transaction", testLeaseFence(s, l))
}

// testLeaseFence checks that a transaction that checked its lease keeps the
// next term from starting until it ends, even when the lease expires
// meanwhile.
func testLeaseFence(s storage.Store, l storage.Leases) func(t *testing.T) {
	return func(t *testing.T) {
		const ttl = 50 * time.Millisecond
		ctx := t.Context()
		token, ok := acquire(t, l, "fence", "node-a", ttl)
		if !ok {
			t.Fatal("AcquireLease failed")
		}
		checked := make(chan struct{})
		var finished atomic.Bool
		updateDone := make(chan error, 1)
		go func() {
			updateDone <- s.Update(ctx, func(tx storage.Tx) error {
				if err := tx.(storage.LeaseTx).CheckLease(ctx, "fence", token); err != nil {
					return err
				}
				close(checked)
				time.Sleep(4 * ttl) // the term expires while the transaction runs
				finished.Store(true)
				return tx.PutMeta(ctx, "fenced-write", []byte("x"))
			})
		}()
		select {
		case <-checked:
		case err := <-updateDone:
			t.Fatalf("the fenced Update ended early: %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			next, ok, err := l.AcquireLease(ctx, "fence", "node-b", time.Minute)
			if err != nil {
				t.Fatalf("AcquireLease: %v", err)
			}
			if ok {
				if !finished.Load() {
					t.Error("another holder started a term while a transaction fenced by the previous one ran")
				}
				if next != token+1 {
					t.Errorf("next term's token = %d, want %d", next, token+1)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the lease was never taken over")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := <-updateDone; err != nil {
			t.Errorf("fenced Update: %v", err)
		}
	}
}
