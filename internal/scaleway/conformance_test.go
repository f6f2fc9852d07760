package scaleway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// TestConformance replays, in order, the requests of every recording of the
// real Scaleway Secret Manager API in shared/conformance/scaleway-cassettes
// against a fresh node per recording, and checks that each answer has the
// recorded status code and the recorded JSON shape: same keys, same kinds,
// null where the recording has null, arrays of the same length, the values
// of valueKeys, one-to-one ids and timestamps (see conformance_helpers_test.go).
//
// Recorded ids differ from ours: the replay maps each recorded id to ours as
// the answers reveal them and rewrites the later requests with ours.
//
// Explicit exceptions, each logged where it applies:
//
//   - Calls outside Secret Manager (Key Manager, in secret-with-kms-key) are
//     not replayed; where the recording creates a Key Manager key, the replay
//     creates a coffer protection key instead and maps the ids.
//   - A ListSecrets answer of the recording may hold secrets that were in the
//     recorded account before the test (other tests' secrets, secrets of the
//     VPN product): they are dropped from the recorded answer, total_count is
//     lowered by their number, and later calls on them are skipped.
//   - In test-access-secret-simple the recorder overwrote every request body
//     with the response body; the bodies sent instead are in rewrittenBodies.
//   - Our answers may carry keys that a recording lacks only when the API
//     added them after that recording was made: see newerKeys.
func TestConformance(t *testing.T) {
	dir := cassetteDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.cassette.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.cassette.yaml in %s", dir)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".cassette.yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := loadCassette(t, f)
			r := &replay{
				t: t, name: name, node: nodetest.Start(t), client: &http.Client{},
				ids: newBijection(), times: newBijection(), unavailable: map[string]string{},
				bodies: rewrittenBodies[name],
			}
			r.run(c)
		})
	}
}

// rewrittenBodies holds, for recordings whose request bodies cannot be
// trusted, the body to send instead, by interaction id; their other
// requests that carry a body are skipped. In test-access-secret-simple
// (scaleway-cli, 2024) every request body is a copy of the response body.
// Sent instead: what the Go SDK sends for the CLI's
// `secret secret create name=cli-test-access-secret` (no type given, so
// unknown_type, which the service stores as opaque, as recorded) and
// `secret version create data={"key":"value"}` (the payload the recorded
// access returns).
var rewrittenBodies = map[string]map[int]string{
	"test-access-secret-simple": {
		0: `{"project_id":"ee7bd9e1-9cbd-4724-b2f4-19e50f3cf38b","name":"cli-test-access-secret","tags":null,"type":"unknown_type","protected":false}`,
		1: `{"data":"eyJrZXkiOiJ2YWx1ZSJ9"}`,
	},
}

// maxFailures stops a replay whose answers keep differing: after a real
// difference, later ones are mostly its consequences.
const maxFailures = 10

// cassetteDir finds shared/conformance/scaleway-cassettes above the
// working directory, or skips the test.
func cassetteDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		conf := filepath.Join(dir, "shared", "conformance")
		if fi, err := os.Stat(conf); err == nil && fi.IsDir() {
			cassettes := filepath.Join(conf, "scaleway-cassettes")
			if fi, err := os.Stat(cassettes); err != nil || !fi.IsDir() {
				t.Skipf("no Scaleway recordings: %s has no scaleway-cassettes folder", conf)
			}
			return cassettes
		}
		if filepath.Dir(dir) == dir {
			t.Skipf("no Scaleway recordings: no shared/conformance folder in %s or above", wd)
		}
	}
}

func loadCassette(t *testing.T, path string) *cassette {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c cassette
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if c.Version != 1 && c.Version != 2 {
		t.Fatalf("%s: go-vcr format version %d, want 1 or 2", path, c.Version)
	}
	if len(c.Interactions) == 0 {
		t.Fatalf("%s: no interactions", path)
	}
	return &c
}

// replay runs one recording against one node.
type replay struct {
	t      *testing.T
	name   string
	node   *nodetest.Node
	client *http.Client
	ids    *bijection // recorded id -> ours
	times  *bijection // recorded timestamp -> ours
	// unavailable holds recorded ids the node cannot have, with the reason.
	unavailable map[string]string
	bodies      map[int]string // see rewrittenBodies
	// compared and skipped count the interactions replayed and not.
	compared, skipped int
	failures          int
}

func (r *replay) run(c *cassette) {
	r.seed(c)
	for i, it := range c.Interactions {
		id := i
		if it.ID != nil {
			id = *it.ID
		}
		r.step(id, it)
		if r.failures >= maxFailures {
			r.t.Fatalf("%s: stopped after %d differing answers", r.name, r.failures)
		}
	}
	r.t.Logf("%d interactions: %d replayed and compared, %d not replayed", len(c.Interactions), r.compared, r.skipped)
	if r.compared == 0 {
		r.t.Errorf("%s: no interaction could be replayed", r.name)
	}
}

// requestBody returns the body to send for an interaction, or why it
// cannot be sent.
func (r *replay) requestBody(id int, it interaction) (string, string) {
	if r.bodies == nil {
		return it.Request.Body, ""
	}
	if b, ok := r.bodies[id]; ok {
		return b, ""
	}
	switch it.Request.Method {
	case http.MethodGet, http.MethodDelete:
		return "", ""
	}
	return "", "its recorded request body is a copy of the response body, and no rewritten body is given"
}

// seed maps the recorded project and organization, found in request bodies
// and queries, to the node's.
func (r *replay) seed(c *cassette) {
	seedOne := func(field, rec, ours string) {
		if rec == "" {
			return
		}
		if want, ok := r.ids.fwd[rec]; ok && want == ours {
			return
		}
		if prev, ok := r.ids.back[ours]; ok {
			r.t.Fatalf("%s: two recorded values of %s, %s and %s: a node has one project and one organization", r.name, field, prev, rec)
		}
		r.ids.add(rec, ours)
	}
	for i, it := range c.Interactions {
		id := i
		if it.ID != nil {
			id = *it.ID
		}
		u, err := url.Parse(it.Request.URL)
		if err != nil {
			r.t.Fatalf("%s #%d: %v", r.name, id, err)
		}
		q := u.Query()
		seedOne("project_id", q.Get("project_id"), r.node.Creds.ProjectID)
		seedOne("organization_id", q.Get("organization_id"), r.node.Creds.OrganizationID)
		body, why := r.requestBody(id, it)
		if why != "" || body == "" {
			continue
		}
		if v, err := decodeJSONValue([]byte(body)); err == nil {
			if m, ok := v.(map[string]any); ok {
				s, _ := m["project_id"].(string)
				seedOne("project_id", s, r.node.Creds.ProjectID)
				s, _ = m["organization_id"].(string)
				seedOne("organization_id", s, r.node.Creds.OrganizationID)
			}
		}
	}
}

// replayable reports whether a recorded call is one of the API's: Secret
// Manager, and the gateway's GET /metadata that the SDK makes.
func replayable(method string, u *url.URL) bool {
	return strings.HasPrefix(u.Path, "/secret-manager/") || method == http.MethodGet && u.Path == "/metadata"
}

func (r *replay) step(id int, it interaction) {
	t := r.t
	rq := it.Request
	u, err := url.Parse(rq.URL)
	if err != nil {
		t.Fatalf("%s #%d: %v", r.name, id, err)
	}
	label := fmt.Sprintf("#%d %s %s", id, rq.Method, u.RequestURI())
	if !replayable(rq.Method, u) {
		if r.provisionKey(it, u) {
			t.Logf("%s: Key Manager key created as a coffer protection key", label)
			return
		}
		t.Logf("%s: not a Secret Manager call, not replayed", label)
		r.skipped++
		r.learnSkipped(id, it, u)
		return
	}
	body, why := r.requestBody(id, it)
	if why == "" {
		why = r.blocked(u.RequestURI() + " " + body)
	}
	if why != "" {
		t.Logf("%s: skipped: %s", label, why)
		r.skipped++
		r.markUnavailable(it.Response.Body, fmt.Sprintf("it uses what skipped call #%d created (%s)", id, why))
		return
	}

	path := r.ids.replace(u.Path)
	q := u.Query()
	for _, vs := range q {
		for i := range vs {
			vs[i] = r.ids.replace(vs[i])
		}
	}
	target := r.node.URL + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	body = r.ids.replace(body)
	req, err := http.NewRequest(rq.Method, target, strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", r.name, label, err)
	}
	req.Header.Set("X-Auth-Token", r.node.Creds.SecretKey)
	if ct := http.Header(rq.Headers).Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.name, label, err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", r.name, label, err)
	}

	r.compared++
	recBody := r.recordedBody(label, u, it.Response.Body)
	if diffs := r.check(it.Response, recBody, resp, got); len(diffs) > 0 {
		r.failures++
		t.Errorf("%s %s\n\tsent:     %s %s %s\n\tdiffers:\n\t\t%s\n\trecorded: %d %s\n\tgot:      %d %s",
			r.name, label, rq.Method, strings.TrimPrefix(target, r.node.URL), clipBody(body, 300),
			strings.Join(diffs, "\n\t\t"),
			it.Response.Code, clipBody(recBody, 1500), resp.StatusCode, clipBody(string(got), 1500))
	}
}

// check compares our answer with the recorded one.
func (r *replay) check(rec recordedResponse, recBody string, resp *http.Response, got []byte) []string {
	var diffs []string
	if resp.StatusCode != rec.Code {
		return []string{fmt.Sprintf("status: recorded %d, got %d", rec.Code, resp.StatusCode)}
	}
	wantCT := http.Header(rec.Headers).Get("Content-Type")
	if strings.TrimSpace(recBody) != "" {
		wantCT = "application/json"
	}
	if gotCT := resp.Header.Values("Content-Type"); wantCT != "" && !slices.Equal(gotCT, []string{wantCT}) {
		diffs = append(diffs, fmt.Sprintf("Content-Type: recorded %q, got %q", wantCT, gotCT))
	}
	if strings.TrimSpace(recBody) == "" {
		if len(got) != 0 {
			diffs = append(diffs, "body: recorded none, got one")
		}
		return diffs
	}
	recV, err := decodeJSONValue([]byte(recBody))
	if err != nil {
		r.t.Fatalf("%s: recorded body is not JSON: %v", r.name, err)
	}
	gotV, err := decodeJSONValue(got)
	if err != nil {
		return append(diffs, fmt.Sprintf("body: not JSON: %v", err))
	}
	c := &comparer{ids: r.ids, times: r.times}
	c.compare("$", "", recV, gotV)
	return append(diffs, c.diffs...)
}

// recordedBody returns the recorded answer to compare with. From a
// ListSecrets answer it drops the secrets this recording did not create
// (they were in the recorded account before), lowers total_count to match,
// and marks them unavailable.
func (r *replay) recordedBody(label string, u *url.URL, body string) string {
	if !strings.HasSuffix(u.Path, "/secrets") || body == "" {
		return body
	}
	v, err := decodeJSONValue([]byte(body))
	if err != nil {
		return body
	}
	m, ok := v.(map[string]any)
	if !ok {
		return body
	}
	secrets, ok := m["secrets"].([]any)
	if !ok {
		return body
	}
	kept := []any{}
	var foreign []string
	for _, s := range secrets {
		sm, _ := s.(map[string]any)
		id, _ := sm["id"].(string)
		if _, known := r.ids.fwd[id]; known {
			kept = append(kept, s)
			continue
		}
		foreign = append(foreign, id)
		if _, ok := r.unavailable[id]; !ok {
			r.unavailable[id] = fmt.Sprintf("secret %s was in the recorded account before this recording; a fresh node cannot have it", id)
		}
	}
	if len(foreign) == 0 {
		return body
	}
	m["secrets"] = kept
	total, err := m["total_count"].(json.Number).Int64()
	if err != nil {
		r.t.Fatalf("%s %s: recorded total_count: %v", r.name, label, err)
	}
	m["total_count"] = total - int64(len(foreign))
	r.t.Logf("%s: %d of the %d recorded secrets were in the recorded account before this recording; compared without them", label, len(foreign), len(secrets))
	return jsonString(m)
}

// blocked returns why a request cannot be replayed: it names an id the
// node cannot have.
func (r *replay) blocked(s string) string {
	for _, id := range uuidRE.FindAllString(s, -1) {
		if why, ok := r.unavailable[id]; ok {
			return why
		}
	}
	return ""
}

// markUnavailable marks the new ids of a recorded answer that is not
// replayed: the node will not have them either.
func (r *replay) markUnavailable(body, why string) {
	for _, id := range uuidRE.FindAllString(body, -1) {
		if _, known := r.ids.fwd[id]; known {
			continue
		}
		if _, ok := r.unavailable[id]; !ok {
			r.unavailable[id] = why
		}
	}
}

// learnSkipped records what a call that is not replayed created.
func (r *replay) learnSkipped(id int, it interaction, u *url.URL) {
	why := fmt.Sprintf("it uses a resource that call #%d (%s %s, not replayed) created", id, it.Request.Method, u.Path)
	r.markUnavailable(it.Response.Body, why)
}

// provisionKey stands in for the Key Manager: where the recording creates a
// key (POST /key-manager/.../keys), the replay creates a coffer protection
// key in the same project and maps the recorded key id to it, so that the
// secret created with that key_id is replayed too.
func (r *replay) provisionKey(it interaction, u *url.URL) bool {
	if it.Request.Method != http.MethodPost || !strings.HasPrefix(u.Path, "/key-manager/") || !strings.HasSuffix(u.Path, "/keys") {
		return false
	}
	var key struct {
		ID        string `json:"id"`
		ProjectID string `json:"project_id"`
		Name      string `json:"name"`
	}
	if err := json.Unmarshal([]byte(it.Response.Body), &key); err != nil || key.ID == "" {
		r.t.Fatalf("recorded Key Manager key: %v", err)
	}
	n := r.node
	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		r.t.Fatal(err)
	}
	ours, err := n.Engine.CreateProtectionKey(coffer.NewContextWithCaller(context.Background(), c), n.Creds.ProjectID, key.Name)
	if err != nil {
		r.t.Fatalf("create protection key: %v", err)
	}
	r.ids.add(key.ID, ours)
	return true
}
