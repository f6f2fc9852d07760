// Package metrics is what a node tells Prometheus: the requests of each
// dialect by route and status with their latency, the audit writer's
// batches and commits, the store's transactions, the read cache, the
// background jobs, the refusals of the rate limits, and the Go runtime and
// process.
//
// Labels are bounded by construction: a dialect is a mount's name, a route
// is a pattern of the dialect's mux (never the path a client sent), a code
// is an HTTP status, a job is a job's name. No label ever holds a secret,
// a path, a project, a key or a principal.
//
// The request path pays for what it records and nothing more: each route's
// series are resolved once (Route) and kept by the caller; recording is a
// few atomic additions, with no lock and no allocation.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric of coffer's own.
const Namespace = "coffer"

// latencyBuckets span a read answered from memory (tens of microseconds)
// to a request that waits for a slow disk (seconds).
var latencyBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Registry holds a node's metrics.
type Registry struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	auditRecords prometheus.Histogram
	auditCommit  prometheus.Histogram

	txDuration *prometheus.HistogramVec
	txRead     prometheus.Observer
	txWrite    prometheus.Observer
	txErrors   *prometheus.CounterVec
	txReadErr  prometheus.Counter
	txWriteErr prometheus.Counter

	jobRuns     *prometheus.CounterVec
	jobFailures *prometheus.CounterVec
	jobDuration *prometheus.HistogramVec
}

// New returns a registry with coffer's metrics and the Go runtime and
// process collectors.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "http", Name: "requests_total",
		Help: "Requests answered by the dialects, by dialect (the mount's name), route (method and route pattern) and status code.",
	}, []string{"dialect", "route", "code"})
	r.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time from a request's arrival to its answer, audit record included, by dialect and route.",
		Buckets: latencyBuckets,
	}, []string{"dialect", "route"})
	r.auditRecords = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "audit", Name: "batch_records",
		Help:    "Records appended to the audit trail per commit of the writer.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	r.auditCommit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "audit", Name: "commit_duration_seconds",
		Help:    "Time of one commit of the audit writer: its transaction, retries included.",
		Buckets: latencyBuckets,
	})
	r.txDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "store", Name: "transaction_duration_seconds",
		Help:    "Time of the engine's store transactions, by kind (read or write); reads answered by the read cache included.",
		Buckets: latencyBuckets,
	}, []string{"kind"})
	r.txErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "store", Name: "transaction_errors_total",
		Help: "Store transactions of the engine that returned an error (not found included), by kind.",
	}, []string{"kind"})
	r.txRead, r.txWrite = r.txDuration.WithLabelValues("read"), r.txDuration.WithLabelValues("write")
	r.txReadErr, r.txWriteErr = r.txErrors.WithLabelValues("read"), r.txErrors.WithLabelValues("write")
	r.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "job", Name: "runs_total",
		Help: "Runs of the background jobs on this node, by job.",
	}, []string{"job"})
	r.jobFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "job", Name: "failures_total",
		Help: "Runs of the background jobs that failed, by job.",
	}, []string{"job"})
	r.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "job", Name: "duration_seconds",
		Help:    "Time of one run of a background job, by job.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	}, []string{"job"})
	r.reg.MustRegister(
		r.requests, r.duration, r.auditRecords, r.auditCommit, r.txDuration, r.txErrors,
		r.jobRuns, r.jobFailures, r.jobDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// Handler serves the metrics in Prometheus's text format (or what the
// scraper asks for).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Register adds collectors: what a node reads from its parts on scrape.
func (r *Registry) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Route is the series of one route of a dialect; Observe records a request
// it answered.
type Route struct {
	r              *Registry
	dialect, route string
	duration       prometheus.Observer
	mu             sync.Mutex                                 // held to add a code
	codes          atomic.Pointer[map[int]prometheus.Counter] // copied on write
}

// Route returns the series of a route: dialect is a mount's name, route a
// pattern of its mux with its method ("GET /v1/secret/data/{path...}").
// Both must come from a bounded set.
func (r *Registry) Route(dialect, route string) *Route {
	rt := &Route{r: r, dialect: dialect, route: route, duration: r.duration.WithLabelValues(dialect, route)}
	rt.codes.Store(&map[int]prometheus.Counter{})
	return rt
}

// Observe records a request answered with status after took.
func (rt *Route) Observe(status int, took time.Duration) {
	rt.duration.Observe(took.Seconds())
	c, ok := (*rt.codes.Load())[status]
	if !ok {
		c = rt.addCode(status)
	}
	c.Inc()
}

func (rt *Route) addCode(status int) prometheus.Counter {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	old := *rt.codes.Load()
	if c, ok := old[status]; ok {
		return c
	}
	c := rt.r.requests.WithLabelValues(rt.dialect, rt.route, strconv.Itoa(status))
	m := make(map[int]prometheus.Counter, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[status] = c
	rt.codes.Store(&m)
	return c
}

// ObserveAuditCommit records a commit of the audit writer.
func (r *Registry) ObserveAuditCommit(records int, took time.Duration) {
	r.auditRecords.Observe(float64(records))
	r.auditCommit.Observe(took.Seconds())
}

// ObserveTx records a store transaction of the engine.
func (r *Registry) ObserveTx(write bool, took time.Duration, err error) {
	if write {
		r.txWrite.Observe(took.Seconds())
		if err != nil {
			r.txWriteErr.Inc()
		}
		return
	}
	r.txRead.Observe(took.Seconds())
	if err != nil {
		r.txReadErr.Inc()
	}
}

// ObserveJob records a run of a background job.
func (r *Registry) ObserveJob(job string, took time.Duration, err error) {
	r.jobRuns.WithLabelValues(job).Inc()
	r.jobDuration.WithLabelValues(job).Observe(took.Seconds())
	if err != nil {
		r.jobFailures.WithLabelValues(job).Inc()
	}
}

// Func is a metric read on scrape: a counter or a gauge with fixed labels.
type Func struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func() float64
}

// Counter returns a counter whose value is read on scrape.
func Counter(name, help string, labels prometheus.Labels, value func() float64) *Func {
	return &Func{prometheus.NewDesc(Namespace+"_"+name, help, nil, labels), prometheus.CounterValue, value}
}

// Gauge returns a gauge whose value is read on scrape.
func Gauge(name, help string, labels prometheus.Labels, value func() float64) *Func {
	return &Func{prometheus.NewDesc(Namespace+"_"+name, help, nil, labels), prometheus.GaugeValue, value}
}

// Describe implements prometheus.Collector.
func (f *Func) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }

// Collect implements prometheus.Collector.
func (f *Func) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(f.desc, f.typ, f.value())
}
