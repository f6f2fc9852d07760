package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/coffer-dev/coffer/internal/metrics"
)

// TestRoute records requests of two statuses on a route and reads them
// back in the text format.
func TestRoute(t *testing.T) {
	r := metrics.New()
	rt := r.Route("vaultkv", "GET /v1/secret/data/{path...}")
	for range 3 {
		rt.Observe(200, 2*time.Millisecond)
	}
	rt.Observe(404, time.Millisecond)
	r.ObserveTx(true, time.Millisecond, errors.New("conflict"))
	r.ObserveJob("sync", time.Millisecond, nil)
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]float64{}
	for _, m := range fams["coffer_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "code" {
				codes[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if codes["200"] != 3 || codes["404"] != 1 || len(codes) != 2 {
		t.Errorf("requests by code: %v, want 200: 3, 404: 1", codes)
	}
	h := fams["coffer_http_request_duration_seconds"].GetMetric()
	if len(h) != 1 || h[0].GetHistogram().GetSampleCount() != 4 {
		t.Errorf("latency: %v, want one series of 4 samples", h)
	}
	if got := fams["coffer_store_transaction_errors_total"].GetMetric(); len(got) != 2 {
		t.Errorf("transaction errors: %d series, want read and write", len(got))
	}
	if fams["coffer_job_runs_total"] == nil || fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Error("a family is missing")
	}
}

// BenchmarkObserve is what a request pays to be counted.
func BenchmarkObserve(b *testing.B) {
	rt := metrics.New().Route("vaultkv", "GET /v1/secret/data/{path...}")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rt.Observe(200, 40*time.Microsecond)
		}
	})
}
