package node

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/metrics"
	"github.com/coffer-dev/coffer/internal/storage"
)

// observeAuditCommit is the audit writer's hook into the node's metrics,
// nil without them.
func (n *Node) observeAuditCommit() func(int, time.Duration) {
	if n.metrics == nil {
		return nil
	}
	return n.metrics.ObserveAuditCommit
}

// observeTx is the engine's hook into the node's metrics, nil without them.
func (n *Node) observeTx() func(bool, time.Duration, error) {
	if n.metrics == nil {
		return nil
	}
	return n.metrics.ObserveTx
}

// registerMetrics adds to the node's metrics what is read from its parts
// on scrape: the read cache's counters and the limiter's refusals.
func (n *Node) registerMetrics() error {
	if n.metrics == nil {
		return nil
	}
	var cs []prometheus.Collector
	if c := n.cache; c != nil {
		lookups := "Lookups of secrets and versions in the read cache, by result (hit or miss)."
		cs = append(cs,
			metrics.Counter("cache_lookups_total", lookups, prometheus.Labels{"result": "hit"},
				func() float64 { return float64(c.Stats().Hits) }),
			metrics.Counter("cache_lookups_total", lookups, prometheus.Labels{"result": "miss"},
				func() float64 { return float64(c.Stats().Misses) }),
			metrics.Counter("cache_evictions_total", "Entries the read cache dropped to stay within its memory bound.", nil,
				func() float64 { return float64(c.Stats().Evictions) }),
			metrics.Gauge("cache_entries", "Secrets with something in the read cache.", nil,
				func() float64 { return float64(c.Stats().Entries) }),
			metrics.Gauge("cache_bytes", "Estimated memory held by the read cache.", nil,
				func() float64 { return float64(c.Stats().Bytes) }),
		)
	}
	refused := "Requests refused with a 429, by reason: source (the address's rate), key (the key's rate), " +
		"concurrency (the key's requests under way), auth_failure (the address failed to authenticate too often)."
	for _, reason := range []string{limit.ReasonSource, limit.ReasonKey, limit.ReasonConcurrency, limit.ReasonAuthFailure} {
		cs = append(cs, metrics.Counter("ratelimit_refused_total", refused, prometheus.Labels{"reason": reason},
			func() float64 { return float64(n.limiter.Refused()[reason]) }))
	}
	cs = append(cs, newSyncStates(n.raw, syncStatesEvery))
	cs = append(cs, metrics.Gauge("ratelimit_entries", "Keys, certificates and source addresses the rate limits track (bounded).", nil,
		func() float64 { return float64(n.limiter.Entries()) }))
	return n.metrics.Register(cs...)
}

// syncStatesEvery is how often a scrape may count key vaults and
// deployments by state: two aggregates over their tables, which a scrape
// every few seconds should not repeat each time.
const syncStatesEvery = 15 * time.Second

// deployStates are the states the sync state gauges report, every one of
// them, zeros included, so that a series does not vanish when its count
// falls to 0.
var deployStates = []coffer.DeployState{
	coffer.DeployStart, coffer.DeployDeploying, coffer.DeployAvailable, coffer.DeployUpdatingVersions,
	coffer.DeployUpdatingError, coffer.DeployStalled, coffer.DeployDecommissioning, coffer.DeployEnd,
}

// syncStates reports the key vaults and the secrets' deployments by state,
// counted on scrape, at most every every; between counts, and when a count
// fails, the last one.
type syncStates struct {
	store              storage.Store
	every              time.Duration
	vaults, deployment *prometheus.Desc

	mu   sync.Mutex
	at   time.Time
	last storage.SyncStates
}

func newSyncStates(s storage.Store, every time.Duration) *syncStates {
	return &syncStates{
		store: s, every: every,
		vaults: prometheus.NewDesc(metrics.Namespace+"_keyvaults", "Key vaults by sync state, over every project.",
			[]string{"state"}, nil),
		deployment: prometheus.NewDesc(metrics.Namespace+"_keyvault_deployments", "Secrets of key vaults by the state of their deployment to the target, over every project.",
			[]string{"state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *syncStates) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.vaults
	ch <- c.deployment
}

// Collect implements prometheus.Collector.
func (c *syncStates) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= c.every {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := c.store.View(ctx, func(tx storage.Tx) error {
			x, ok := tx.(storage.SyncStateTx)
			if !ok {
				return nil
			}
			s, err := x.CountSyncStates(ctx)
			if err == nil {
				c.last = s
			}
			return err
		})
		cancel()
		if err == nil {
			c.at = time.Now()
		}
	}
	for _, st := range deployStates {
		ch <- prometheus.MustNewConstMetric(c.vaults, prometheus.GaugeValue, float64(c.last.KeyVaults[st]), string(st))
		ch <- prometheus.MustNewConstMetric(c.deployment, prometheus.GaugeValue, float64(c.last.Deployments[st]), string(st))
	}
}
