package ncloud_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/webhook"
)

// receiver is a rotation function: an httptest server that verifies each
// delivery's signature and drives the job through NAVER's signed API as
// mode says.
type receiver struct {
	t      *testing.T
	c      *client
	srv    *httptest.Server
	secret []byte

	mu   sync.Mutex
	mode string
	// got counts deliveries that verified; bad those that did not.
	got, bad atomic.Int32
	// tokens are the job tokens received, errs what went wrong.
	tokens []string
	errs   []string
	// hold blocks the "hang" mode until closed.
	hold chan struct{}
}

func newReceiver(t *testing.T, c *client, mode string) *receiver {
	rc := &receiver{t: t, c: c, mode: mode, hold: make(chan struct{})}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(func() {
		close(rc.hold)
		rc.srv.Close()
	})
	return rc
}

func (rc *receiver) setMode(m string) {
	rc.mu.Lock()
	rc.mode = m
	rc.mu.Unlock()
}

func (rc *receiver) errorf(format string, args ...any) {
	rc.mu.Lock()
	rc.errs = append(rc.errs, strings.TrimSpace(format+" "+strings.Repeat("%v ", len(args))))
	rc.mu.Unlock()
	rc.t.Logf(format, args...)
}

func (rc *receiver) lastToken() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.tokens) == 0 {
		return ""
	}
	return rc.tokens[len(rc.tokens)-1]
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(rc.secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		rc.bad.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.got.Add(1)
	var in struct {
		SecretID string `json:"secretId"`
		JobToken string `json:"jobToken"`
		Action   string `json:"action"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.SecretID == "" || len(in.JobToken) != 64 || in.Action == "" {
		rc.errorf("bad payload %s", body)
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	mode := rc.mode
	rc.tokens = append(rc.tokens, in.JobToken)
	rc.mu.Unlock()
	job := "/action/v1/secrets/" + in.SecretID + "/jobs/" + in.JobToken + "/"
	step := func(method, op, body string) bool {
		if res := rc.c.do(method, job+op, body); res.Status != http.StatusOK {
			rc.errorf("%s: %d %s", op, res.Status, res.Body)
			return false
		}
		return true
	}
	switch mode {
	case "complete":
		_ = step(http.MethodPost, "start", "") && step(http.MethodPost, "pending", "") && step(http.MethodPost, "complete", "")
	case "fail":
		_ = step(http.MethodPost, "start", "") && step(http.MethodPost, "fail", "")
	case "accept":
		// Answers and does nothing: the job waits to be cancelled or
		// to reach its deadline.
	case "error":
		w.WriteHeader(http.StatusServiceUnavailable)
	case "hang":
		select {
		case <-rc.hold:
		case <-r.Context().Done():
		}
	}
}

// triggerNode starts a node whose triggers time out fast, and a receiver
// linked by a trigger created through the admin API.
func triggerNode(t *testing.T, mode string, opts ...nodetest.Option) (*nodetest.Node, *client, *nodetest.Clock, *receiver, string) {
	t.Helper()
	n, c, clock := start(t, append([]nodetest.Option{nodetest.WithWebhooks(5*time.Second, 3, 10*time.Millisecond)}, opts...)...)
	rc := newReceiver(t, c, mode)
	st, m := admin(t, n, http.MethodPost, "/triggers", `{"project_id":"`+n.Creds.ProjectID+`","name":"rotator","url":"`+rc.srv.URL+`/rotate"}`)
	if st != http.StatusCreated {
		t.Fatalf("create trigger: %d %v", st, m)
	}
	rc.secret = []byte(m["signing_secret"].(string))
	return n, c, clock, rc, m["trigger"].(map[string]any)["id"].(string)
}

// admin sends an admin API request with the node's admin key.
func admin(t *testing.T, n *nodetest.Node, method, p, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, n.URL+"/coffer/v1"+p, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.Creds.SecretKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: %v: %s", method, p, err, b)
		}
	}
	return res.StatusCode, m
}

// fire opens a job with op (rotation, retry-rotation) on a secret linked
// to a trigger: the token goes to the trigger, not to the caller.
func (c *client) fire(id, op string) {
	c.t.Helper()
	r := c.do(http.MethodPost, "/api/v1/secrets/"+id+"/"+op, "")
	if r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != `{"code":"SUCCESS","data":null}` {
		c.t.Fatalf("%s: %d %s", op, r.Status, r.Body)
	}
	if tok := r.Header.Get("X-Coffer-Job-Token"); tok != "" {
		c.t.Errorf("%s: the job token was returned to the caller", op)
	}
}

// settle waits until the secret is no longer ROTATING.
func (c *client) settle(id string) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.status(id) == "ROTATING" {
		if time.Now().After(deadline) {
			c.t.Fatalf("secret %s still ROTATING", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkLatest checks the chain through NAVER and the latest value through
// Scaleway and Vault.
func checkLatest(t *testing.T, c *client, id, name, prev, active string) {
	t.Helper()
	ch := c.chain(id)
	if str(ch.DecryptedSecretChain.Active) != active || str(ch.DecryptedSecretChain.Previous) != prev || ch.DecryptedSecretChain.Pending != nil {
		t.Errorf("chain: previous %s, active %s, pending %s; want %s, %s, none", str(ch.DecryptedSecretChain.Previous),
			str(ch.DecryptedSecretChain.Active), str(ch.DecryptedSecretChain.Pending), prev, active)
	}
	if st, v := scalewayAccess(t, c, id); st != 200 || v != active {
		t.Errorf("Scaleway latest: %d %s, want %s", st, v, active)
	}
	if st, v := vaultRead(t, c, name); st != 200 || v != active {
		t.Errorf("Vault latest: %d %s, want %s", st, v, active)
	}
	if st := c.status(id); st != "ENABLE" {
		t.Errorf("status %s, want ENABLE", st)
	}
}

func link(c *client, id, triggerID string) {
	c.t.Helper()
	var d struct {
		SecretID string `json:"secretId"`
		Trigger  struct {
			ID string `json:"id"`
		} `json:"trigger"`
	}
	c.ok(http.MethodPut, "/api/v1/secrets/"+id+"/triggers", `{"triggerId":"`+triggerID+`"}`, &d)
	if d.Trigger.ID != triggerID {
		c.t.Fatalf("linked trigger %q", d.Trigger.ID)
	}
}

func TestTriggerRotation(t *testing.T) {
	_, c, _, rc, trig := triggerNode(t, "complete")
	const v1 = `{"user":"app","password":"first"}`
	id := c.create("hooked", v1, "password").SecretID
	link(c, id, trig)

	c.fire(id, "rotation")
	c.settle(id)
	if rc.got.Load() != 1 || rc.bad.Load() != 0 || len(rc.errs) != 0 {
		t.Fatalf("deliveries: %d verified, %d bad, errors %v", rc.got.Load(), rc.bad.Load(), rc.errs)
	}
	active := str(c.chain(id).DecryptedSecretChain.Active)
	if active == v1 || !strings.Contains(active, `"user":"app"`) {
		t.Fatalf("active after the rotation: %s", active)
	}
	checkLatest(t, c, id, "hooked", v1, active)

	// The function fails the next run: nothing changes. A retry fires
	// the trigger again with a new token, and completes.
	rc.setMode("fail")
	c.fire(id, "rotation")
	c.settle(id)
	checkLatest(t, c, id, "hooked", v1, active)
	failed := rc.lastToken()
	rc.setMode("complete")
	c.fire(id, "retry-rotation")
	c.settle(id)
	if rc.lastToken() == failed {
		t.Error("the retry sent the failed job's token")
	}
	third := str(c.chain(id).DecryptedSecretChain.Active)
	if third == active {
		t.Fatal("the retry did not rotate")
	}
	checkLatest(t, c, id, "hooked", active, third)
	// The failed job's token does nothing any more.
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodPost, "/action/v1/secrets/"+id+"/jobs/"+failed+"/start", "")

	// Rollback: the previous value is the latest again everywhere.
	c.action(http.MethodPost, "/api/v1/secrets/"+id+"/rollback-rotation", "")
	checkLatest(t, c, id, "hooked", third, active)

	// Every step is in the secret's logs with its job id, never a token.
	logs := c.logs(id, "")
	for _, want := range []string{"rotation execute job ", "rotation start job ", "rotation pending job ", "rotation complete job ", "rotation fail job ", "rotation retry job "} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs have no %q", want)
		}
	}
	rc.mu.Lock()
	for _, tok := range rc.tokens {
		if strings.Contains(logs, tok) {
			t.Errorf("the logs hold a job token")
		}
	}
	rc.mu.Unlock()
	if kw := c.logs(id, "keyword=complete"); strings.Contains(kw, "rotation start") || !strings.Contains(kw, "rotation complete") {
		t.Errorf("keyword filter: %s", kw)
	}
}

// logs returns the secret's log entries as JSON, after waiting for the
// audit records to be written.
func (c *client) logs(id, query string) string {
	c.t.Helper()
	var out struct {
		TotalCount int               `json:"totalCount"`
		Result     []json.RawMessage `json:"result"`
	}
	var prev int
	for range 50 {
		c.ok(http.MethodGet, "/api/v1/secrets/"+id+"/logs?"+query, "", &out)
		if out.TotalCount == prev && prev > 0 {
			break
		}
		prev = out.TotalCount
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := json.Marshal(out.Result)
	return string(b)
}

func TestTriggerNotDelivered(t *testing.T) {
	for _, mode := range []string{"hang", "error"} {
		t.Run(mode, func(t *testing.T) {
			_, c, _, rc, trig := triggerNode(t, mode, nodetest.WithWebhooks(300*time.Millisecond, 3, 10*time.Millisecond))
			const v1 = `{"password":"first"}`
			id := c.create("hooked", v1, "password").SecretID
			link(c, id, trig)
			c.fire(id, "rotation")
			c.settle(id)
			// Every attempt was made (3), then the job failed.
			if rc.got.Load() != 3 {
				t.Errorf("%d attempts, want 3", rc.got.Load())
			}
			checkLatest(t, c, id, "hooked", "<nil>", v1)
			if logs := c.logs(id, "keyword=delivery-failed"); !strings.Contains(logs, "rotation delivery-failed job ") || !strings.Contains(logs, "trigger_delivery_failed") {
				t.Errorf("logs: %s", logs)
			}
			// A failed job can be retried.
			rc.setMode("complete")
			c.fire(id, "retry-rotation")
			c.settle(id)
			if a := str(c.chain(id).DecryptedSecretChain.Active); a == v1 {
				t.Error("the retry did not rotate")
			}
		})
	}
}

func TestTriggerCancelAndDeadline(t *testing.T) {
	n, c, clock, rc, trig := triggerNode(t, "accept", nodetest.WithJobTimeout(time.Hour))
	const v1 = `{"password":"first"}`
	id := c.create("hooked", v1, "password").SecretID
	link(c, id, trig)

	c.fire(id, "rotation")
	waitDelivered(t, rc, 1)
	if c.status(id) != "ROTATING" {
		t.Fatal("not rotating while the function holds the job")
	}
	c.action(http.MethodPost, "/api/v1/secrets/"+id+"/cancel-rotation", "")
	checkLatest(t, c, id, "hooked", "<nil>", v1)
	// The function's late steps are refused.
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodPost, "/action/v1/secrets/"+id+"/jobs/"+rc.lastToken()+"/start", "")

	// A job the function never finishes fails at its deadline.
	c.fire(id, "rotation")
	waitDelivered(t, rc, 2)
	tok := rc.lastToken()
	c.ok(http.MethodPost, "/action/v1/secrets/"+id+"/jobs/"+tok+"/start", "", nil)
	clock.Advance(59 * time.Minute)
	if _, err := n.Engine.RunDueRotations(t.Context(), engine.Fence{}); err != nil {
		t.Fatal(err)
	}
	if c.status(id) != "ROTATING" {
		t.Fatal("failed before the deadline")
	}
	clock.Advance(time.Minute)
	if k, err := n.Engine.RunDueRotations(t.Context(), engine.Fence{}); err != nil || k != 1 {
		t.Fatalf("RunDueRotations at the deadline: %d, %v", k, err)
	}
	checkLatest(t, c, id, "hooked", "<nil>", v1)
	if logs := c.logs(id, "keyword=deadline"); !strings.Contains(logs, "rotation deadline job ") {
		t.Errorf("logs: %s", logs)
	}
}

func waitDelivered(t *testing.T, rc *receiver, n int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rc.got.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries, want %d", rc.got.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTriggerRefusals(t *testing.T) {
	n, c, _, _, trig := triggerNode(t, "complete")
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x", "http://metadata.google.internal/computeMetadata/v1/"} {
		if st, m := admin(t, n, http.MethodPost, "/triggers", `{"project_id":"`+n.Creds.ProjectID+`","name":"evil","url":"`+u+`"}`); st != http.StatusBadRequest {
			t.Errorf("create trigger to %s: %d %v", u, st, m)
		}
	}
	// A key with every secret right but RotationManager creates none.
	ctx := adminContext(t, n)
	p, err := n.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreatePolicy(ctx, coffer.PolicyCreate{PrincipalID: p.ID, ProjectID: n.Creds.ProjectID,
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerFullAccess}}); err != nil {
		t.Fatal(err)
	}
	k, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	appCtx := coffer.NewContextWithCaller(t.Context(), mustCaller(t, n, k.SecretKey))
	if _, err := n.Engine.CreateTrigger(appCtx, coffer.TriggerCreate{ProjectID: n.Creds.ProjectID, Name: "mine", URL: "http://127.0.0.1:1/"}); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		t.Errorf("create a trigger without RotationManager: %v", err)
	}
	// It lists them through NAVER, without the signing secret.
	kc := newClient(t, n, c.clock, k.AccessKey, k.SecretKey)
	var l struct {
		TriggerList []struct {
			ID               string   `json:"id"`
			LinkedSecretList []string `json:"linkedSecretList"`
		} `json:"triggerList"`
	}
	raw := kc.ok(http.MethodGet, "/api/v1/triggers", "", &l)
	if len(l.TriggerList) != 1 || l.TriggerList[0].ID != trig || strings.Contains(string(raw), "whsec_") {
		t.Errorf("GET /triggers: %s", raw)
	}
	// A linked trigger is not deleted; automatic rotation keeps it linked.
	id := c.create("hooked", `{"password":"x"}`, "password").SecretID
	link(c, id, trig)
	if st, _ := admin(t, n, http.MethodDelete, "/triggers/"+trig, ""); st != http.StatusPreconditionFailed && st != http.StatusConflict {
		t.Errorf("delete a linked trigger: %d", st)
	}
	c.ok(http.MethodPost, "/api/v1/secrets/"+id+"/enable-auto-rotation", `{"rotationPeriod":30}`, nil)
	c.fail(http.StatusConflict, "INVALID_STATUS", http.MethodDelete, "/api/v1/secrets/"+id+"/triggers", "")
	c.ok(http.MethodPost, "/api/v1/secrets/"+id+"/disable-auto-rotation", "", nil)
	c.action(http.MethodDelete, "/api/v1/secrets/"+id+"/triggers", "")
	if st, _ := admin(t, n, http.MethodDelete, "/triggers/"+trig, ""); st != http.StatusNoContent {
		t.Errorf("delete an unlinked trigger: %d", st)
	}
	c.fail(http.StatusBadRequest, "INVALID_REQUEST", http.MethodPost, "/api/v1/secrets/"+id+"/enable-auto-rotation", `{"rotationPeriod":731}`)
	c.fail(http.StatusBadRequest, "INVALID_REQUEST", http.MethodPut, "/api/v1/secrets/"+id+"/rotation-period", `{"rotationPeriod":0}`)
}

func mustCaller(t *testing.T, n *nodetest.Node, secretKey string) *coffer.Caller {
	t.Helper()
	c, err := n.Engine.AuthenticateSecretKey(t.Context(), secretKey)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAutoRotation: a due rotation fires once, however many passes run at
// once; the next date is a period after the rotation; a secret with an
// open job is skipped.
func TestAutoRotation(t *testing.T) {
	n, c, clock, rc, trig := triggerNode(t, "complete", nodetest.WithJobTimeout(3*time.Hour))
	const v1 = `{"password":"first"}`
	id := c.create("auto", v1, "password").SecretID
	var d struct {
		AutoRotationYN     string `json:"autoRotationYN"`
		AutoRotationPeriod int    `json:"autoRotationPeriod"`
		NextRotationDate   int64  `json:"nextRotationDate"`
	}
	c.ok(http.MethodPost, "/api/v1/secrets/"+id+"/enable-auto-rotation", `{"rotationPeriod":1,"triggerId":"`+trig+`"}`, &d)
	if d.AutoRotationYN != "Y" || d.AutoRotationPeriod != 1 || d.NextRotationDate != clock.Now().Add(24*time.Hour).UnixMilli() {
		t.Fatalf("enable-auto-rotation: %+v", d)
	}
	run := func() int {
		t.Helper()
		var total atomic.Int32
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				k, err := n.Engine.RunDueRotations(t.Context(), engine.Fence{})
				if err != nil {
					t.Error(err)
				}
				total.Add(int32(k))
			})
		}
		wg.Wait()
		return int(total.Load())
	}
	clock.Advance(23 * time.Hour)
	if k := run(); k != 0 {
		t.Fatalf("%d rotations before the date", k)
	}
	clock.Advance(time.Hour)
	if k := run(); k != 1 {
		t.Fatalf("%d rotations at the date, want 1", k)
	}
	c.settle(id)
	if rc.got.Load() != 1 {
		t.Fatalf("%d deliveries", rc.got.Load())
	}
	checkLatest(t, c, id, "auto", v1, str(c.chain(id).DecryptedSecretChain.Active))
	c.ok(http.MethodGet, "/api/v1/secrets/"+id, "", &d)
	if d.NextRotationDate != clock.Now().Add(24*time.Hour).UnixMilli() {
		t.Errorf("nextRotationDate %d, want %d", d.NextRotationDate, clock.Now().Add(24*time.Hour).UnixMilli())
	}
	if k := run(); k != 0 {
		t.Errorf("%d rotations right after one", k)
	}

	// A job opened by hand when the date comes: the scheduler skips the
	// secret until the job ends.
	rc.setMode("accept")
	clock.Advance(23 * time.Hour)
	c.fire(id, "rotation")
	waitDelivered(t, rc, 2)
	clock.Advance(time.Hour)
	if k := run(); k != 0 {
		t.Errorf("%d rotations of a secret with an open job", k)
	}
	c.action(http.MethodPost, "/api/v1/secrets/"+id+"/cancel-rotation", "")
	rc.setMode("complete")
	if k := run(); k != 1 {
		t.Errorf("%d rotations once the job ended, want 1", k)
	}
	c.settle(id)
	if rc.got.Load() != 3 {
		t.Errorf("%d deliveries, want 3", rc.got.Load())
	}
}

// TestTriggerIsolation: a key limited to one project neither sees nor
// uses another project's triggers.
func TestTriggerIsolation(t *testing.T) {
	n, c, _, _, trigA := triggerNode(t, "complete")
	ctx := adminContext(t, n)
	pb, err := n.Engine.CreateProject(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	p, err := n.Engine.CreatePrincipal(ctx, coffer.PrincipalCreate{Kind: coffer.PrincipalApplication, Name: "b-rotator"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreatePolicy(ctx, coffer.PolicyCreate{PrincipalID: p.ID, ProjectID: pb.ID,
		PermissionSets: []coffer.PermissionSet{coffer.SecretManagerFullAccess, coffer.RotationManager}}); err != nil {
		t.Fatal(err)
	}
	k, err := n.Engine.CreateAPIKey(ctx, coffer.APIKeyCreate{PrincipalID: p.ID, DefaultProjectID: pb.ID})
	if err != nil {
		t.Fatal(err)
	}
	bctx := coffer.NewContextWithCaller(t.Context(), mustCaller(t, n, k.SecretKey))
	trB, err := n.Engine.CreateTrigger(bctx, coffer.TriggerCreate{ProjectID: pb.ID, Name: "b", URL: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Engine.CreateTrigger(bctx, coffer.TriggerCreate{ProjectID: n.Creds.ProjectID, Name: "x", URL: "http://127.0.0.1:1/"}); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("create a trigger in another project: %v", err)
	}
	if _, err := n.Engine.GetTrigger(bctx, trigA); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("get another project's trigger: %v", err)
	}
	if err := n.Engine.DeleteTrigger(bctx, trigA); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("delete another project's trigger: %v", err)
	}
	kc := newClient(t, n, c.clock, k.AccessKey, k.SecretKey)
	var l struct {
		TriggerList []struct {
			ID string `json:"id"`
		} `json:"triggerList"`
	}
	kc.ok(http.MethodGet, "/api/v1/triggers", "", &l)
	if len(l.TriggerList) != 1 || l.TriggerList[0].ID != trB.ID {
		t.Errorf("GET /triggers of project b: %+v", l)
	}
	// A trigger links only to a secret of its own project.
	id := kc.create("bsecret", `{"password":"x"}`, "password").SecretID
	kc.fail(http.StatusNotFound, "NOT_FOUND", http.MethodPut, "/api/v1/secrets/"+id+"/triggers", `{"triggerId":"`+trigA+`"}`)
	idA := c.create("asecret", `{"password":"x"}`, "password").SecretID
	c.fail(http.StatusNotFound, "NOT_FOUND", http.MethodPut, "/api/v1/secrets/"+idA+"/triggers", `{"triggerId":"`+trB.ID+`"}`)
	kc.fail(http.StatusNotFound, "NOT_FOUND", http.MethodGet, "/api/v1/secrets/"+idA+"/logs", "")
}
