package node_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	vault "github.com/hashicorp/vault/api"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// scrape reads the node's /metrics with token (none when empty) and parses
// it.
func scrape(t *testing.T, n *nodetest.Node, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest("GET", n.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value sums the samples of a family whose labels include want: a
// counter's or a gauge's value, a histogram's count.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	sum := 0.0
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// TestMetrics sends real traffic through several dialects, with the
// official Vault client among them, and reads /metrics: the counts of each
// dialect's routes move, the audit writer, the store, the cache and the
// runtime report, and no label value holds a name, a path, a project or a
// principal the test used.
func TestMetrics(t *testing.T) {
	clock := nodetest.NewClock()
	n := nodetest.Start(t, func(c *node.Config) { c.Metrics = true }, nodetest.WithNow(clock.Now))
	ctx := as(t, n)
	key, project := n.Creds.SecretKey, n.Creds.ProjectID
	m := marker(t)
	name, folder := "name-"+m, "folder-"+m

	scw := "/secret-manager/v1beta1/regions/fr-par/secrets"
	code, body, _ := auditCall(t, n, "POST", scw, `{"name":"`+name+`","path":"/`+folder+`","project_id":"`+project+`"}`, "X-Auth-Token", key)
	if code != http.StatusOK {
		t.Fatalf("create: %d %s", code, body)
	}
	vc, err := vault.NewClient(&vault.Config{Address: n.URL})
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(key)
	vpath := folder + "/vault-" + m
	if _, err := vc.KVv2("secret").Put(t.Context(), vpath, map[string]any{"password": m}); err != nil {
		t.Fatalf("vault put: %v", err)
	}
	for range 3 {
		if _, err := vc.KVv2("secret").Get(t.Context(), vpath); err != nil {
			t.Fatalf("vault get: %v", err)
		}
	}
	if code, body, _ := auditCall(t, n, "GET", "/api/"+project+"/v2/secret/"+strings.ReplaceAll(vpath, "/", "%2F"), "", "Authorization", "Bearer "+key); code != http.StatusOK {
		t.Fatalf("okms get: %d %s", code, body)
	}
	if code, _, _ := auditCall(t, n, "GET", "/coffer/v1/system", "", "Authorization", "Bearer "+key); code != http.StatusOK {
		t.Fatalf("admin: %d", code)
	}
	// A principal with a name of its own, and no policy: refused (or
	// told nothing is there).
	pr, err := n.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "principal-" + m})
	if err != nil {
		t.Fatal(err)
	}
	prKey, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: pr.ID, DefaultProjectID: project})
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := auditCall(t, n, "GET", "/v1/secret/data/"+vpath, "", "X-Vault-Token", prKey.SecretKey); code != http.StatusForbidden && code != http.StatusNotFound {
		t.Fatalf("a principal without policy: %d %s", code, body)
	}
	// A refused credential, an unknown route, a path that is not clean,
	// a method no one serves.
	auditCall(t, n, "GET", scw, "", "X-Auth-Token", badToken)
	auditCall(t, n, "GET", "/v3/nowhere-"+m, "", "Authorization", "Bearer "+key)
	auditCall(t, n, "GET", "/v1/secret/data/"+folder+"/../x", "", "X-Vault-Token", key)
	auditCall(t, n, "BREW"+m[len(m)-6:], "/v3/secret/key_vaults", "", "Authorization", "Bearer "+key)

	// A key vault without target: available at once.
	if _, err := n.Engine.CreateKeyVault(ctx, coffer.KeyVaultCreate{ProjectID: project, Name: "kv-" + m, Path: "/kv-" + m}); err != nil {
		t.Fatalf("create key vault: %v", err)
	}

	fams := scrape(t, n, "")
	if got := value(fams, "coffer_keyvaults", map[string]string{"state": "available"}); got != 1 {
		t.Errorf("key vaults available: %v, want 1", got)
	}
	if got := value(fams, "coffer_keyvault_deployments", map[string]string{"state": "stalled"}); got != 0 {
		t.Errorf("deployments stalled: %v, want 0 (and reported)", got)
	}
	routes := []struct {
		dialect, route, code string
		atLeast              float64
	}{
		{"scaleway", "POST /secret-manager/v1beta1/regions/{region}/secrets", "200", 1},
		{"scaleway", "GET /secret-manager/v1beta1/regions/{region}/secrets", "401", 1},
		{"vaultkv", "GET /v1/secret/data/{path...}", "200", 3},
		{"okms", "GET /api/{okmsId}/v2/secret/{path...}", "200", 1},
		{"admin", "GET /coffer/v1/system", "200", 1},
		{"imco", "GET /v3", "404", 1},
		{"imco", "OTHER /v3/secret/key_vaults", "405", 1},
		{"vaultkv", "GET (not clean)", "400", 1},
	}
	for _, r := range routes {
		got := value(fams, "coffer_http_requests_total", map[string]string{"dialect": r.dialect, "route": r.route, "code": r.code})
		if got < r.atLeast {
			t.Errorf("requests of %s %s with %s: %v, want at least %v", r.dialect, r.route, r.code, got, r.atLeast)
		}
	}
	if got := value(fams, "coffer_http_request_duration_seconds", map[string]string{"dialect": "vaultkv", "route": "GET /v1/secret/data/{path...}"}); got < 3 {
		t.Errorf("latency samples of the Vault reads: %v, want at least 3", got)
	}
	for _, name := range []string{
		"coffer_audit_batch_records", "coffer_audit_commit_duration_seconds", "coffer_store_transaction_duration_seconds",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if value(fams, name, nil) <= 0 {
			t.Errorf("%s: no sample above 0", name)
		}
	}
	if value(fams, "coffer_store_transaction_duration_seconds", map[string]string{"kind": "write"}) < 2 {
		t.Error("fewer than 2 write transactions")
	}
	if value(fams, "coffer_cache_lookups_total", map[string]string{"result": "hit"})+
		value(fams, "coffer_cache_lookups_total", map[string]string{"result": "miss"}) <= 0 {
		t.Error("the read cache reports no lookup")
	}
	if _, ok := fams["coffer_ratelimit_refused_total"]; !ok {
		t.Error("no coffer_ratelimit_refused_total")
	}

	// No label holds a word of the requests: names, paths, the project,
	// the principal, the key, or the method a client made up.
	words := []string{m, m[len(m)-6:], project, key, n.Creds.AccessKey, n.Creds.OrganizationID}
	c, err := n.Engine.AuthenticateSecretKey(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	// (The first principal's name is "admin", as is the admin API's
	// dialect: the principal made above has a name of its own.)
	words = append(words, c.Principal.ID, pr.ID, pr.Name, prKey.AccessKey, prKey.SecretKey)
	for fname, f := range fams {
		for _, mt := range f.Metric {
			for _, l := range mt.Label {
				for _, w := range words {
					if w != "" && strings.Contains(l.GetValue(), w) {
						t.Errorf("%s{%s=%q} holds %q", fname, l.GetName(), l.GetValue(), w)
					}
				}
			}
		}
	}

	// More traffic moves the counts; /metrics itself is neither counted
	// nor audited.
	before := value(fams, "coffer_http_requests_total", map[string]string{"dialect": "vaultkv", "route": "GET /v1/secret/data/{path...}", "code": "200"})
	if _, err := vc.KVv2("secret").Get(t.Context(), vpath); err != nil {
		t.Fatal(err)
	}
	after := value(scrape(t, n, ""), "coffer_http_requests_total", map[string]string{"dialect": "vaultkv", "route": "GET /v1/secret/data/{path...}", "code": "200"})
	if after != before+1 {
		t.Errorf("Vault reads: %v, then %v after one more", before, after)
	}
	for _, r := range auditRecords(t, ctx, n) {
		if strings.Contains(r.Action, "metrics") {
			t.Errorf("/metrics was audited: %+v", r)
		}
	}
}

// TestMetricsJobs runs the background jobs and finds their runs.
func TestMetricsJobs(t *testing.T) {
	n := nodetest.Start(t, func(c *node.Config) { c.Metrics = true }, nodetest.WithJobTiming(10*time.Millisecond, 0, 0))
	n.StartJobs()
	for {
		fams := scrape(t, n, "")
		if value(fams, "coffer_job_runs_total", map[string]string{"job": "sync"}) >= 1 &&
			value(fams, "coffer_job_runs_total", map[string]string{"job": "due-versions"}) >= 1 {
			if _, ok := fams["coffer_job_duration_seconds"]; !ok {
				t.Error("no coffer_job_duration_seconds")
			}
			return
		}
	}
}

// TestMetricsToken checks that a token protects /metrics.
func TestMetricsToken(t *testing.T) {
	const token = "metrics-token-of-the-test"
	n := nodetest.Start(t, func(c *node.Config) { c.Metrics, c.MetricsToken = true, token })
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong-token", http.StatusUnauthorized},
		{"Bearer " + token[:len(token)-1], http.StatusUnauthorized},
		{"Bearer " + token, http.StatusOK},
	} {
		req, _ := http.NewRequest("GET", n.URL+"/metrics", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.header, resp.StatusCode, tc.want)
		}
	}
	scrape(t, n, token)

	// Without Metrics there is no /metrics.
	off := nodetest.Start(t)
	resp, err := http.Get(off.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a node without metrics: status %d, want 404", resp.StatusCode)
	}
}
