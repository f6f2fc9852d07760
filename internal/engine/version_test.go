package engine_test

import (
	"sync"
	"testing"

	"github.com/coffer-dev/coffer"
)

// TestConcurrentWritesKeepTheRules has 32 callers write versions at once,
// as many clients do (on SQLite their writes share transactions and
// commits): revisions have no gaps and no duplicates, max_versions prunes
// exactly, and of callers that write with the same check-and-set revision
// exactly one wins.
func TestConcurrentWritesKeepTheRules(t *testing.T) {
	e := newEnv(t)
	const writers, each = 32, 4
	const total = writers * each
	all := e.secret(t, coffer.SecretCreate{Name: "all", MaxVersions: total})
	pruned := e.secret(t, coffer.SecretCreate{Name: "pruned", MaxVersions: 5})
	cas := e.secret(t, coffer.SecretCreate{Name: "cas"})

	var wg sync.WaitGroup
	var mu sync.Mutex
	revs := map[string]map[uint32]bool{all.ID: {}, pruned.ID: {}}
	casWins := 0
	for range writers {
		wg.Go(func() {
			for range each {
				for _, id := range []string{all.ID, pruned.ID} {
					_, v, err := e.write(t, id, "x", nil)
					if err != nil {
						t.Errorf("write: %v", err)
						return
					}
					mu.Lock()
					if revs[id][v.Revision] {
						t.Errorf("revision %d given twice", v.Revision)
					}
					revs[id][v.Revision] = true
					mu.Unlock()
				}
			}
			_, _, err := e.write(t, cas.ID, "x", ptr(uint32(0)))
			if err == nil {
				mu.Lock()
				casWins++
				mu.Unlock()
			} else if ce := coffer.AsError(err); ce == nil || ce.Precondition != coffer.PreconditionCASMismatch {
				t.Errorf("cas write: %v, want a CAS mismatch", err)
			}
		})
	}
	wg.Wait()
	if casWins != 1 {
		t.Errorf("%d writes with cas=0 won, want 1", casWins)
	}

	for _, c := range []struct {
		s      *coffer.Secret
		kept   uint32
		oldest uint32 // 0 before pruning removed any
	}{{all, total, 0}, {pruned, 5, total - 4}} {
		vs, n, err := e.n.Engine.ListVersions(e.ctx, c.s.ID, coffer.VersionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if n != int(c.kept) || len(vs) != int(c.kept) {
			t.Fatalf("%s: %d versions, total %d; want %d", c.s.Name, len(vs), n, c.kept)
		}
		for i, v := range vs {
			if want := total - c.kept + uint32(i) + 1; v.Revision != want {
				t.Fatalf("%s: version %d has revision %d, want %d", c.s.Name, i, v.Revision, want)
			}
		}
		got, err := e.n.Engine.GetSecret(e.ctx, c.s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastRevision != total || got.VersionCount != int(c.kept) || got.OldestRevision != c.oldest {
			t.Errorf("%s: last %d, count %d, oldest %d; want %d, %d, %d", c.s.Name,
				got.LastRevision, got.VersionCount, got.OldestRevision, total, c.kept, c.oldest)
		}
	}
}
