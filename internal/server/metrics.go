package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coffer-dev/coffer/internal/auth"
	"github.com/coffer-dev/coffer/internal/metrics"
)

// routeKey names the series of a request: the pattern its dialect's mux
// matched, and its method when the pattern has none (a catch-all).
type routeKey struct {
	pattern, method string
}

// uncleanPattern is the key of the requests refused for their path.
const uncleanPattern = "\x00unclean"

// routeSeries are a mount's series, by route: resolved once per route and
// then read without a lock (the map is copied on write; routes are the
// patterns of the dialect's mux, a few dozen).
type routeSeries struct {
	mu sync.Mutex
	m  atomic.Pointer[map[routeKey]*metrics.Route]
}

// routeMetrics returns the series of the route that served r.
func (s *Server) routeMetrics(r *http.Request, m *mount) *metrics.Route {
	k := routeKey{pattern: r.Pattern}
	if !cleanPath(r.URL.Path) {
		k.pattern = uncleanPattern
	}
	if strings.IndexByte(k.pattern, ' ') < 0 {
		k.method = knownMethod(r.Method)
	}
	if p := m.series.m.Load(); p != nil {
		if rt, ok := (*p)[k]; ok {
			return rt
		}
	}
	m.series.mu.Lock()
	defer m.series.mu.Unlock()
	old := map[routeKey]*metrics.Route{}
	if p := m.series.m.Load(); p != nil {
		old = *p
	}
	if rt, ok := old[k]; ok {
		return rt
	}
	route := routeOf(r, m)
	if k.method != "" {
		route = k.method + " " + route
	} else {
		method, _, _ := strings.Cut(r.Pattern, " ")
		route = method + " " + route
	}
	rt := s.cfg.Metrics.Route(m.Name, route)
	next := make(map[routeKey]*metrics.Route, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	next[k] = rt
	m.series.m.Store(&next)
	return rt
}

// knownMethod returns method if it is one of HTTP's, else "OTHER": a
// client chooses the method of a request to a catch-all route, and a label
// must not take any value a client sends.
func knownMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, "LIST", "SCAN":
		return method
	}
	return "OTHER"
}

// metricsHandler serves the registry, behind MetricsToken when it is set:
// "Authorization: Bearer <token>", compared in constant time.
func (s *Server) metricsHandler() http.Handler {
	h := s.cfg.Metrics.Handler()
	if s.cfg.MetricsToken == "" {
		return h
	}
	want := sha256.Sum256([]byte(s.cfg.MetricsToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := auth.BearerToken(r.Header)
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header()["WWW-Authenticate"] = []string{`Bearer realm="metrics"`}
			writeStatus(w, http.StatusUnauthorized, "a bearer token is required")
			return
		}
		h.ServeHTTP(w, r)
	})
}
