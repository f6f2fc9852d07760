package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// ack is an acknowledged write: the version the engine said it created.
type ack struct {
	secret   string
	revision uint32
	value    string
}

// createSecrets creates n secrets through the first node, with room for
// every version the test writes.
func (c *cluster) createSecrets(t *testing.T, n int, prefix string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		s, err := c.nodes[0].Engine.CreateSecret(c.ctxs[0], coffer.SecretCreate{
			ProjectID: c.nodes[0].Creds.ProjectID, Name: fmt.Sprintf("%s-%d", prefix, i), MaxVersions: 10000,
		})
		if err != nil {
			t.Fatalf("create secret: %v", err)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

// checkAcks checks that every secret's versions are exactly 1..n, n the
// number of acknowledged writes to it, and that every acknowledged value is
// read back, exactly, from every node.
func (c *cluster) checkAcks(t *testing.T, ids []string, acks []ack) {
	t.Helper()
	byRev := map[string]map[uint32]string{}
	for _, id := range ids {
		byRev[id] = map[uint32]string{}
	}
	for _, a := range acks {
		if prev, dup := byRev[a.secret][a.revision]; dup {
			t.Fatalf("secret %s revision %d acknowledged twice: %q and %q", a.secret, a.revision, prev, a.value)
		}
		byRev[a.secret][a.revision] = a.value
	}
	for _, id := range ids {
		n := len(byRev[id])
		versions, total, err := c.nodes[0].Engine.ListVersions(c.ctxs[0], id, coffer.VersionFilter{})
		if err != nil {
			t.Fatalf("list versions: %v", err)
		}
		if total != n || len(versions) != n {
			t.Fatalf("secret %s: %d versions (total %d), want %d acknowledged", id, len(versions), total, n)
		}
		for i, v := range versions {
			if v.Revision != uint32(i+1) {
				t.Fatalf("secret %s: version %d has revision %d: a gap or a duplicate", id, i, v.Revision)
			}
		}
		s, err := c.nodes[0].Engine.GetSecret(c.ctxs[0], id)
		if err != nil {
			t.Fatal(err)
		}
		if int(s.LastRevision) != n || s.VersionCount != n {
			t.Errorf("secret %s: last revision %d, version count %d; want %d", id, s.LastRevision, s.VersionCount, n)
		}
	}
	for i, nd := range c.nodes {
		for _, a := range acks {
			_, _, data, err := nd.Engine.AccessVersion(c.ctxs[i], a.secret, coffer.RevisionN(a.revision))
			if err != nil || string(data) != a.value {
				t.Fatalf("node %d: %s@%d = %q, %v; want %q", i, a.secret, a.revision, data, err, a.value)
			}
		}
	}
}

// TestConcurrentWriters has writers on every node add versions to the same
// secrets at once.
func TestConcurrentWriters(t *testing.T) {
	pgtest.Require(t)
	const nodes, writers, writes, secrets = 3, 4, 150, 5
	c := startCluster(t, nodes)
	ids := c.createSecrets(t, secrets, "contended")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var acks []ack
	var wg sync.WaitGroup
	start := time.Now()
	for n := range nodes {
		for w := range writers {
			wg.Go(func() {
				actx := coffer.NewContextWithCaller(ctx, coffer.CallerFromContext(c.ctxs[n]))
				for i := range writes {
					id := ids[(n+w+i)%secrets]
					value := fmt.Sprintf("node %d writer %d write %d", n, w, i)
					_, v, err := c.nodes[n].Engine.CreateVersion(actx, id, coffer.VersionCreate{Data: coffer.Payload(value)})
					if err != nil {
						t.Errorf("node %d: create version: %v", n, err)
						return
					}
					mu.Lock()
					acks = append(acks, ack{id, v.Revision, value})
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d writes on %d nodes in %v", len(acks), nodes, time.Since(start).Round(time.Millisecond))
	if len(acks) != nodes*writers*writes {
		t.Fatalf("%d acknowledged writes, want %d", len(acks), nodes*writers*writes)
	}
	c.checkAcks(t, ids, acks)
}

// TestConcurrentCAS has writers on every node write with check-and-set at
// the revision they last read: each attempt either succeeds with the next
// revision or is refused as a CAS mismatch, never lost.
func TestConcurrentCAS(t *testing.T) {
	pgtest.Require(t)
	const nodes, writers, attempts, secrets = 3, 4, 50, 2
	c := startCluster(t, nodes)
	ids := c.createSecrets(t, secrets, "cas")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var acks []ack
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for n := range nodes {
		for w := range writers {
			wg.Go(func() {
				actx := coffer.NewContextWithCaller(ctx, coffer.CallerFromContext(c.ctxs[n]))
				e := c.nodes[n].Engine
				for i := range attempts {
					id := ids[(n+w+i)%secrets]
					s, err := e.GetSecret(actx, id)
					if err != nil {
						t.Errorf("node %d: get secret: %v", n, err)
						return
					}
					cas := s.LastRevision
					value := fmt.Sprintf("node %d writer %d attempt %d", n, w, i)
					_, v, err := e.CreateVersion(actx, id, coffer.VersionCreate{Data: coffer.Payload(value), CAS: &cas})
					if ce := coffer.AsError(err); ce != nil && ce.Code == coffer.EPRECONDITION && ce.Precondition == coffer.PreconditionCASMismatch {
						conflicts.Add(1)
						continue
					} else if err != nil {
						t.Errorf("node %d: create version: %v", n, err)
						return
					}
					if v.Revision != cas+1 {
						t.Errorf("CAS %d created revision %d", cas, v.Revision)
					}
					mu.Lock()
					acks = append(acks, ack{id, v.Revision, value})
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d CAS writes succeeded, %d refused as mismatches", len(acks), conflicts.Load())
	if got := int64(len(acks)) + conflicts.Load(); got != nodes*writers*attempts {
		t.Fatalf("successes + CAS conflicts = %d, want the %d attempts", got, nodes*writers*attempts)
	}
	if conflicts.Load() == 0 {
		t.Error("no CAS conflict among concurrent writers: the test did not contend")
	}
	c.checkAcks(t, ids, acks)
}

// TestConcurrentWritersPrune has writers on every node write one secret
// that keeps few versions: pruning under concurrency keeps exactly the
// newest max_versions.
func TestConcurrentWritersPrune(t *testing.T) {
	pgtest.Require(t)
	const nodes, writers, writes, keep = 3, 2, 40, 5
	c := startCluster(t, nodes)
	s, err := c.nodes[0].Engine.CreateSecret(c.ctxs[0], coffer.SecretCreate{
		ProjectID: c.nodes[0].Creds.ProjectID, Name: "pruned", MaxVersions: keep,
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for n := range nodes {
		for range writers {
			wg.Go(func() {
				for range writes {
					if _, _, err := c.nodes[n].Engine.CreateVersion(c.ctxs[n], s.ID, coffer.VersionCreate{Data: coffer.Payload("v")}); err != nil {
						t.Errorf("node %d: create version: %v", n, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	const last = nodes * writers * writes
	got, err := c.nodes[1].Engine.GetSecret(c.ctxs[1], s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastRevision != last || got.VersionCount != keep || got.OldestRevision != last-keep+1 {
		t.Errorf("secret: last %d, count %d, oldest %d; want %d, %d, %d",
			got.LastRevision, got.VersionCount, got.OldestRevision, last, keep, last-keep+1)
	}
	versions, total, err := c.nodes[2].Engine.ListVersions(c.ctxs[2], s.ID, coffer.VersionFilter{})
	if err != nil || total != keep {
		t.Fatalf("list versions: total %d, %v; want %d", total, err, keep)
	}
	for i, v := range versions {
		if want := uint32(last - keep + 1 + i); v.Revision != want {
			t.Errorf("version %d has revision %d, want %d", i, v.Revision, want)
		}
	}
}

// TestConcurrentCreateByPath has writers on every node write the first
// version of a secret that does not exist yet, by its path: one creates it,
// and every write adds a version to that one secret.
func TestConcurrentCreateByPath(t *testing.T) {
	pgtest.Require(t)
	const nodes, writers = 3, 4
	c := startCluster(t, nodes)
	project := c.nodes[0].Creds.ProjectID
	var wg sync.WaitGroup
	var mu sync.Mutex
	secrets := map[string]int{}
	for n := range nodes {
		for range writers {
			wg.Go(func() {
				s, _, err := c.nodes[n].Engine.CreateVersion(c.ctxs[n], "", coffer.VersionCreate{
					Data:         coffer.Payload("first"),
					CreateSecret: &coffer.SecretCreate{ProjectID: project, Path: "/apps", Name: "created-by-write"},
				})
				if err != nil {
					t.Errorf("node %d: create version by path: %v", n, err)
					return
				}
				mu.Lock()
				secrets[s.ID]++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if len(secrets) != 1 {
		t.Fatalf("the writes went to %d secrets, want 1: %v", len(secrets), secrets)
	}
	for id := range secrets {
		s, err := c.nodes[2].Engine.GetSecret(c.ctxs[2], id)
		if err != nil {
			t.Fatal(err)
		}
		if s.LastRevision != nodes*writers {
			t.Errorf("secret's last revision %d, want %d", s.LastRevision, nodes*writers)
		}
	}
}
