package cluster_test

import (
	"slices"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestReadCacheAcrossNodes: node b caches a secret and its version; each
// kind of write of them on node a (a new version, disable, destroy, new
// metadata, delete) reaches b's reads within its bound, through the
// notifications a's store publishes. It logs how long after a's write
// returned b read the new state.
func TestReadCacheAcrossNodes(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	actx, bctx := c.ctxs[0], c.ctxs[1]
	s, err := a.Engine.CreateSecret(actx, coffer.SecretCreate{ProjectID: a.Creds.ProjectID, Name: "cached"})
	if err != nil {
		t.Fatal(err)
	}
	write := func(data string) {
		t.Helper()
		if _, _, err := a.Engine.CreateVersion(actx, s.ID, coffer.VersionCreate{Data: coffer.Payload(data)}); err != nil {
			t.Fatal(err)
		}
	}
	// read reads the latest version on b: its revision, data, or error.
	read := func(rev coffer.Revision) (uint32, string, error) {
		_, v, data, err := b.Engine.AccessVersion(bctx, s.ID, rev)
		if err != nil {
			return 0, "", err
		}
		return v.Revision, string(data), nil
	}
	var delays []time.Duration
	// seen waits until b reads what cond wants, and notes how long it took.
	seen := func(what string, rev coffer.Revision, cond func(uint32, string, error) bool) {
		t.Helper()
		start := time.Now()
		for {
			r, d, err := read(rev)
			if cond(r, d, err) {
				delays = append(delays, time.Since(start))
				return
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: node b still reads %d %q %v", what, r, d, err)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	write("one")
	seen("first version", coffer.Latest, func(r uint32, d string, err error) bool { return err == nil && d == "one" })
	eventually(t, 5*time.Second, "a hit on node b", func() bool {
		st0, _ := b.ReadCacheStats()
		read(coffer.Latest)
		st, _ := b.ReadCacheStats()
		return st.Hits == st0.Hits+2
	})
	stats0, _ := b.ReadCacheStats()
	for range 3 {
		if _, d, err := read(coffer.Latest); err != nil || d != "one" {
			t.Fatalf("read %q, %v", d, err)
		}
	}
	if st, ok := b.ReadCacheStats(); !ok || st.Hits < stats0.Hits+6 || st.Misses != stats0.Misses {
		t.Fatalf("node b's cache: %+v then %+v; want 6 more hits and no more misses", stats0, st)
	}

	write("two")
	seen("new version", coffer.Latest, func(r uint32, d string, err error) bool { return r == 2 && d == "two" })
	if _, err := a.Engine.DisableVersion(actx, s.ID, coffer.RevisionN(2)); err != nil {
		t.Fatal(err)
	}
	seen("disable", coffer.RevisionN(2), func(_ uint32, _ string, err error) bool {
		return coffer.ErrorCode(err) == coffer.EPRECONDITION
	})
	seen("read 1", coffer.RevisionN(1), func(_ uint32, d string, err error) bool { return d == "one" })
	if _, err := a.Engine.DestroyVersion(actx, s.ID, coffer.RevisionN(1)); err != nil {
		t.Fatal(err)
	}
	seen("destroy", coffer.RevisionN(1), func(_ uint32, _ string, err error) bool {
		return coffer.ErrorCode(err) == coffer.EPRECONDITION
	})
	desc := "new"
	if _, err := b.Engine.GetSecret(bctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Engine.UpdateSecret(actx, s.ID, coffer.SecretUpdate{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		got, err := b.Engine.GetSecret(bctx, s.ID)
		if err == nil && got.Description == desc {
			delays = append(delays, time.Since(start))
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("update metadata: node b reads %+v, %v", got, err)
		}
		time.Sleep(100 * time.Microsecond)
	}
	if err := a.Engine.DeleteSecret(actx, s.ID); err != nil {
		t.Fatal(err)
	}
	seen("delete", coffer.RevisionN(1), func(_ uint32, _ string, err error) bool {
		return coffer.ErrorCode(err) == coffer.ENOTFOUND || coffer.ErrorCode(err) == coffer.EPRECONDITION
	})
	slices.Sort(delays)
	t.Logf("write on a returned -> node b reads it: median %v, max %v (%d writes)", delays[len(delays)/2], delays[len(delays)-1], len(delays))
}

// TestReadCacheStrong: with the read cache off, a write on one node is read
// by the next read on the other, at once.
func TestReadCacheStrong(t *testing.T) {
	c := startCluster(t, 2, nodetest.WithoutReadCache())
	a, b := c.nodes[0], c.nodes[1]
	if _, ok := b.ReadCacheStats(); ok {
		t.Fatal("node b has a read cache")
	}
	s, err := a.Engine.CreateSecret(c.ctxs[0], coffer.SecretCreate{ProjectID: a.Creds.ProjectID, Name: "strong"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		want := string(rune('a' + i))
		if _, _, err := a.Engine.CreateVersion(c.ctxs[0], s.ID, coffer.VersionCreate{Data: coffer.Payload(want)}); err != nil {
			t.Fatal(err)
		}
		_, _, data, err := b.Engine.AccessVersion(c.ctxs[1], s.ID, coffer.Latest)
		if err != nil || string(data) != want {
			t.Fatalf("node b read %q, %v; want %q", data, err, want)
		}
	}
}
