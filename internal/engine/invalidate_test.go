package engine

import (
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

func TestInvalidate(t *testing.T) {
	e := New(Config{})
	now := time.Now()
	for _, tt := range []struct {
		change storage.Change
		drops  bool
	}{
		{storage.Change{Kind: storage.ChangeReset}, true},
		{storage.Change{Kind: storage.ChangeAPIKey, ID: "SCWXXXXXXXXXXXXXXXXX"}, true},
		{storage.Change{Kind: storage.ChangePrincipal, ID: "p"}, true},
		{storage.Change{Kind: "something else"}, false},
	} {
		h := [32]byte{1}
		e.auth.put(authEntry{caller: &coffer.Caller{}, hash: h, checked: now})
		e.Invalidate(tt.change)
		if _, cached := e.auth.get(h, now); cached == tt.drops {
			t.Errorf("Invalidate(%+v): cached %v after, want %v", tt.change, cached, !tt.drops)
		}
	}
}
