package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/metrics"
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
	cs = append(cs, metrics.Gauge("ratelimit_entries", "Keys, certificates and source addresses the rate limits track (bounded).", nil,
		func() float64 { return float64(n.limiter.Entries()) }))
	return n.metrics.Register(cs...)
}
