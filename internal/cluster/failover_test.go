package cluster_test

import (
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
)

// TestJobsFailover runs the background jobs on three nodes: one runs them;
// when it dies without a word, another takes its lease over once it expires
// and applies an expiry that came due after the death, exactly once.
func TestJobsFailover(t *testing.T) {
	pgtest.Require(t)
	const (
		interval = 100 * time.Millisecond
		ttl      = time.Second
		renew    = 250 * time.Millisecond
	)
	clock := nodetest.NewClock()
	c := startCluster(t, 3, nodetest.WithNow(clock.Now), nodetest.WithJobTiming(interval, ttl, renew))
	for _, n := range c.nodes {
		n.StartJobs()
	}
	leader := -1
	eventually(t, 5*time.Second, "a node leads the jobs", func() bool {
		leaders := 0
		for i, n := range c.nodes {
			if n.JobStatus().Leader {
				leaders, leader = leaders+1, i
			}
		}
		return leaders == 1
	})
	oldToken := c.nodes[leader].JobStatus().Token

	// A version that expires an hour from now.
	ctx, e := c.ctxs[leader], c.nodes[leader].Engine
	s, err := e.CreateSecret(ctx, coffer.SecretCreate{
		ProjectID: c.nodes[leader].Creds.ProjectID, Name: "ephemeral",
		Ephemeral: &coffer.EphemeralPolicy{TTL: time.Hour, Action: coffer.EphemeralDisable},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload("short-lived")}); err != nil {
		t.Fatal(err)
	}

	// The leader dies; then the expiry comes due.
	c.nodes[leader].Crash(t)
	died := time.Now()
	clock.Advance(2 * time.Hour)

	survivor := (leader + 1) % 3
	eventually(t, 10*time.Second, "a survivor expires the version", func() bool {
		v, err := c.nodes[survivor].Engine.GetVersion(c.ctxs[survivor], s.ID, coffer.RevisionN(1))
		if err != nil {
			t.Fatal(err)
		}
		return v.State == coffer.VersionDisabled
	})
	t.Logf("expired %v after the leader died (lease TTL %v)", time.Since(died).Round(10*time.Millisecond), ttl)

	// A few more runs change nothing more: the expiry happened once.
	time.Sleep(5 * interval)
	changed, leaders := int64(0), 0
	for i, n := range c.nodes {
		st := n.JobStatus()
		changed += st.Changed
		if i == leader {
			if st.Changed != 0 {
				t.Errorf("the dead leader changed %d records", st.Changed)
			}
			continue
		}
		if st.Leader {
			leaders++
			if st.Token <= oldToken {
				t.Errorf("the new leader's token %d is not above the dead leader's %d", st.Token, oldToken)
			}
		}
	}
	if changed != 1 {
		t.Errorf("the jobs changed %d records across the nodes, want exactly 1", changed)
	}
	if leaders != 1 {
		t.Errorf("%d surviving leaders, want 1", leaders)
	}
}
