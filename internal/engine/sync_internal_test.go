package engine

import (
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{
		1: SyncBackoff, 2: 2 * SyncBackoff, 3: 4 * SyncBackoff, 20: SyncMaxBackoff, 1000: SyncMaxBackoff,
	} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestDue(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	kv := &storage.KeyVault{KeyVault: coffer.KeyVault{Target: coffer.Target{Kind: coffer.TargetVault}}}
	s := &coffer.Secret{LatestRevision: 2}
	later, earlier := now.Add(time.Second), now.Add(-time.Second)
	cases := []struct {
		name string
		d    coffer.Deployment
		s    *coffer.Secret
		want bool
	}{
		{"new", coffer.Deployment{State: coffer.DeployStart}, s, true},
		{"up to date", coffer.Deployment{State: coffer.DeployAvailable, PushedRevision: 2, RemoteID: "r"}, s, false},
		{"behind", coffer.Deployment{State: coffer.DeployAvailable, PushedRevision: 1, RemoteID: "r"}, s, true},
		{"backing off", coffer.Deployment{State: coffer.DeployUpdatingError, PushedRevision: 1, NextAttemptAt: &later}, s, false},
		{"backed off", coffer.Deployment{State: coffer.DeployUpdatingError, PushedRevision: 1, NextAttemptAt: &earlier}, s, true},
		{"waits for retry", coffer.Deployment{State: coffer.DeployStalled}, s, false},
		{"decommissioning", coffer.Deployment{State: coffer.DeployDecommissioning}, nil, true},
		{"no versions", coffer.Deployment{State: coffer.DeployStart}, &coffer.Secret{}, false},
		{"in progress, all pushed", coffer.Deployment{State: coffer.DeployUpdatingVersions, PushedRevision: 2, RemoteID: "r"}, s, true},
	}
	for _, tc := range cases {
		if got := due(kv, tc.s, &tc.d, now); got != tc.want {
			t.Errorf("%s: due = %v, want %v", tc.name, got, tc.want)
		}
	}
}
