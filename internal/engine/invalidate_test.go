package engine

import (
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

func TestInvalidate(t *testing.T) {
	e := New(Config{})
	for _, tt := range []struct {
		change storage.Change
		drops  bool
	}{
		{storage.Change{Kind: storage.ChangeReset}, true},
		{storage.Change{Kind: storage.ChangeAPIKey, ID: "SCWXXXXXXXXXXXXXXXXX"}, true},
		{storage.Change{Kind: storage.ChangePrincipal, ID: "p"}, true},
		{storage.Change{Kind: "something else"}, false},
	} {
		// An entry checked before a clear is never cached: it may be stale.
		now := time.Now()
		h := [32]byte{1}
		e.auth.put(authEntry{caller: &coffer.Caller{}, hash: h, checked: now})
		e.Invalidate(tt.change)
		if _, cached := e.auth.get(h, now); cached == tt.drops {
			t.Errorf("Invalidate(%+v): cached %v after, want %v", tt.change, cached, !tt.drops)
		}
	}
}

// TestAuthCacheRefusesStaleEntries: a key read before a change that cleared
// the cache is not cached by the read that finishes after it.
func TestAuthCacheRefusesStaleEntries(t *testing.T) {
	e := New(Config{})
	read := time.Now()
	e.auth.clear(read.Add(time.Millisecond))
	h := [32]byte{2}
	e.auth.put(authEntry{caller: &coffer.Caller{}, hash: h, checked: read})
	if _, cached := e.auth.get(h, read); cached {
		t.Fatal("an entry read before the clear was cached")
	}
	e.auth.put(authEntry{caller: &coffer.Caller{}, hash: h, checked: read.Add(time.Millisecond)})
	if _, cached := e.auth.get(h, read.Add(time.Millisecond)); !cached {
		t.Fatal("an entry read at the clear was not cached")
	}
}
