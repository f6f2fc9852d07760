package cluster_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/webhook"
)

// TestAutoRotationAcrossNodes runs the background jobs on three nodes of
// one PostgreSQL schema with one injected clock: every secret whose
// automatic rotation comes due is rotated exactly once per due date,
// whichever node leads the jobs, and its next date moves a period on.
func TestAutoRotationAcrossNodes(t *testing.T) {
	pgtest.Require(t)
	const secrets = 8
	clock := nodetest.NewClock()
	c := startCluster(t, 3, nodetest.WithNow(clock.Now),
		nodetest.WithJobTiming(50*time.Millisecond, time.Second, 250*time.Millisecond),
		nodetest.WithWebhooks(10*time.Second, 2, 10*time.Millisecond))
	e, ctx := c.nodes[1].Engine, c.ctxs[1]

	// The rotation function completes each job through node 2.
	var (
		mu         sync.Mutex
		deliveries = map[string]int{}
		signing    []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		key := signing
		mu.Unlock()
		if err := webhook.Verify(key, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var d struct{ SecretID, JobToken, Action string }
		if err := json.Unmarshal(body, &d); err != nil || d.Action != coffer.JobActionAuto {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		deliveries[d.SecretID]++
		mu.Unlock()
		e2, ctx2 := c.nodes[2].Engine, c.ctxs[2]
		if _, ch, err := e2.StartRotationJob(ctx2, d.SecretID, d.JobToken); err != nil {
			t.Errorf("start: %v", err)
			return
		} else {
			ch.Wipe()
		}
		if p, err := e2.AddPendingStage(ctx2, d.SecretID, d.JobToken); err != nil {
			t.Errorf("pending: %v", err)
			return
		} else {
			p.Wipe()
		}
		if err := e2.CompleteRotationJob(ctx2, d.SecretID, d.JobToken); err != nil {
			t.Errorf("complete: %v", err)
		}
	}))
	defer srv.Close()
	tr, err := e.CreateTrigger(ctx, coffer.TriggerCreate{ProjectID: c.nodes[1].Creds.ProjectID, Name: "rotator", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	signing = []byte(tr.SigningSecret)
	mu.Unlock()

	ids := make([]string, secrets)
	for i := range ids {
		s, err := e.CreateChainSecret(ctx, coffer.ChainSecretCreate{Name: fmt.Sprintf("auto-%d", i),
			Value: coffer.Payload(`{"password":"first"}`), RotationTargets: []string{"password"}})
		if err != nil {
			t.Fatal(err)
		}
		// Periods of one day and two days.
		if _, err := e.EnableAutoRotation(ctx, s.ID, 1+i%2, tr.ID); err != nil {
			t.Fatal(err)
		}
		ids[i] = s.ID
	}
	for _, n := range c.nodes {
		n.StartJobs()
	}
	rotatedSince := func(id string, at time.Time) bool {
		s, err := e.GetSecret(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return s.State == coffer.SecretEnabled && s.Rotation.LastRunAt != nil && !s.Rotation.LastRunAt.Before(at)
	}
	// Day 1: the secrets of a one-day period rotate.
	clock.Advance(24 * time.Hour)
	day1 := clock.Now()
	eventually(t, 15*time.Second, "the one-day secrets rotate", func() bool {
		for i, id := range ids {
			if i%2 == 0 && !rotatedSince(id, day1) {
				return false
			}
		}
		return true
	})
	// Day 2: all of them.
	clock.Advance(24 * time.Hour)
	day2 := clock.Now()
	eventually(t, 15*time.Second, "every secret rotates", func() bool {
		for _, id := range ids {
			if !rotatedSince(id, day2) {
				return false
			}
		}
		return true
	})
	// A few more passes rotate nothing more.
	time.Sleep(10 * 50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for i, id := range ids {
		if want := 1 + (i+1)%2; deliveries[id] != want {
			t.Errorf("secret %d: %d deliveries, want %d", i, deliveries[id], want)
		}
		s, err := e.GetSecret(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := s.Rotation.LastRunAt.Add(s.Rotation.Period); !s.Rotation.NextRunAt.Equal(want) {
			t.Errorf("secret %d: next rotation %v, want %v", i, s.Rotation.NextRunAt, want)
		}
	}
}
