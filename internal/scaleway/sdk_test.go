package scaleway_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
	"github.com/scaleway/scaleway-sdk-go/scw"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// These tests drive a real node (engine, SQLite store, keyring) through the
// official Go SDK, as scw, Terraform and External Secrets do.

const apiPrefix = "/secret-manager/v1beta1/regions/"

// sentRequest is one request a client sent.
type sentRequest struct {
	Method string
	Path   string
	Query  url.Values
}

// requestRecorder is an http.RoundTripper that remembers what a client sends.
type requestRecorder struct {
	next http.RoundTripper

	mu   sync.Mutex
	sent []sentRequest
}

func (r *requestRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.sent = append(r.sent, sentRequest{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query()})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *requestRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = nil
}

// requests returns the requests sent since the last reset to paths ending
// with suffix.
func (r *requestRecorder) requests(method, suffix string) []sentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sentRequest
	for _, s := range r.sent {
		if s.Method == method && strings.HasSuffix(s.Path, suffix) {
			out = append(out, s)
		}
	}
	return out
}

// sdkEnv is a node, a clock that drives it, and an SDK client for its admin.
type sdkEnv struct {
	t       *testing.T
	node    *nodetest.Node
	clock   *nodetest.Clock
	rec     *requestRecorder
	api     *secret.API
	project string
	org     string
}

func newSDKEnv(t *testing.T, opts ...nodetest.Option) *sdkEnv {
	t.Helper()
	clk := nodetest.NewClock()
	n := nodetest.Start(t, append([]nodetest.Option{nodetest.WithNow(clk.Now)}, opts...)...)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	e := &sdkEnv{
		t: t, node: n, clock: clk, rec: &requestRecorder{next: tr},
		project: n.Creds.ProjectID, org: n.Creds.OrganizationID,
	}
	e.api = secret.NewAPI(e.client(scw.WithAuth(n.Creds.AccessKey, n.Creds.SecretKey)))
	return e
}

// client returns an SDK client of the node that authenticates with auth.
func (e *sdkEnv) client(auth scw.ClientOption) *scw.Client {
	e.t.Helper()
	c, err := scw.NewClient(
		scw.WithAPIURL(e.node.URL),
		auth,
		scw.WithDefaultProjectID(e.project),
		scw.WithDefaultOrganizationID(e.org),
		scw.WithDefaultRegion(scw.RegionFrPar),
		scw.WithHTTPClient(&http.Client{Transport: e.rec, Timeout: 30 * time.Second}),
	)
	if err != nil {
		e.t.Fatalf("new SDK client: %v", err)
	}
	return c
}

// with returns the sdkEnv for a subtest: its helpers fail t.
func (e *sdkEnv) with(t *testing.T) *sdkEnv {
	c := *e
	c.t = t
	return &c
}

func (e *sdkEnv) now() time.Time { return e.clock.Now() }

func (e *sdkEnv) createSecret(req *secret.CreateSecretRequest) *secret.Secret {
	e.t.Helper()
	s, err := e.api.CreateSecret(req)
	if err != nil {
		e.t.Fatalf("CreateSecret %q: %v", req.Name, err)
	}
	return s
}

func (e *sdkEnv) getSecret(id string) *secret.Secret {
	e.t.Helper()
	s, err := e.api.GetSecret(&secret.GetSecretRequest{SecretID: id})
	if err != nil {
		e.t.Fatalf("GetSecret: %v", err)
	}
	return s
}

func (e *sdkEnv) createVersion(req *secret.CreateSecretVersionRequest) *secret.SecretVersion {
	e.t.Helper()
	v, err := e.api.CreateSecretVersion(req)
	if err != nil {
		e.t.Fatalf("CreateSecretVersion: %v", err)
	}
	return v
}

func (e *sdkEnv) addVersion(secretID string, data string) *secret.SecretVersion {
	e.t.Helper()
	return e.createVersion(&secret.CreateSecretVersionRequest{SecretID: secretID, Data: []byte(data)})
}

func (e *sdkEnv) getVersion(secretID, rev string) *secret.SecretVersion {
	e.t.Helper()
	v, err := e.api.GetSecretVersion(&secret.GetSecretVersionRequest{SecretID: secretID, Revision: rev})
	if err != nil {
		e.t.Fatalf("GetSecretVersion %s: %v", rev, err)
	}
	return v
}

func (e *sdkEnv) access(secretID, rev string) (*secret.AccessSecretVersionResponse, error) {
	return e.api.AccessSecretVersion(&secret.AccessSecretVersionRequest{SecretID: secretID, Revision: rev})
}

// mustAccess accesses a version and checks its revision and data.
func (e *sdkEnv) mustAccess(secretID, rev string, wantRev uint32, wantData string) {
	e.t.Helper()
	a, err := e.access(secretID, rev)
	if err != nil {
		e.t.Fatalf("AccessSecretVersion %s: %v", rev, err)
	}
	if a.Revision != wantRev || string(a.Data) != wantData {
		e.t.Fatalf("AccessSecretVersion %s = revision %d data %q, want revision %d data %q", rev, a.Revision, a.Data, wantRev, wantData)
	}
}

// versionStates lists a secret's versions as "revision:status".
func (e *sdkEnv) versionStates(secretID string) ([]string, uint64) {
	e.t.Helper()
	res, err := e.api.ListSecretVersions(&secret.ListSecretVersionsRequest{SecretID: secretID})
	if err != nil {
		e.t.Fatalf("ListSecretVersions: %v", err)
	}
	out := []string{}
	for _, v := range res.Versions {
		out = append(out, fmt.Sprintf("%d:%s", v.Revision, v.Status))
	}
	return out, res.TotalCount
}

// names lists the names of the secrets a ListSecrets request returns.
func (e *sdkEnv) names(req *secret.ListSecretsRequest, opts ...scw.RequestOption) ([]string, uint64) {
	e.t.Helper()
	res, err := e.api.ListSecrets(req, opts...)
	if err != nil {
		e.t.Fatalf("ListSecrets: %v", err)
	}
	out := []string{}
	for _, s := range res.Secrets {
		out = append(out, s.Name)
	}
	return out, res.TotalCount
}

func (e *sdkEnv) runDue() int {
	e.t.Helper()
	n, err := e.node.Engine.RunDue(context.Background())
	if err != nil {
		e.t.Fatalf("RunDue: %v", err)
	}
	return n
}

func wantSRN(id string, rev ...uint32) string {
	s := "srn://secret-manager.scw.eu/regions/fr-par/secrets/" + id
	for _, r := range rev {
		s += fmt.Sprintf("/versions/%d", r)
	}
	return s
}

// asError returns the error of type T in err's chain, or fails the test.
func asError[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if err == nil {
		t.Fatalf("got no error, want %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("got error %v (%T), want %T", err, err, target)
	}
	return target
}

func wantInvalid(t *testing.T, err error, argument string) *scw.InvalidArgumentsError {
	t.Helper()
	ie := asError[*scw.InvalidArgumentsError](t, err)
	if len(ie.Details) == 0 || ie.Details[0].ArgumentName != argument {
		t.Fatalf("invalid arguments %+v, want argument %q", ie.Details, argument)
	}
	return ie
}

func wantPrecondition(t *testing.T, err error, precondition string) {
	t.Helper()
	pe := asError[*scw.PreconditionFailedError](t, err)
	if precondition != "" && pe.Precondition != precondition {
		t.Fatalf("precondition = %q, want %q", pe.Precondition, precondition)
	}
}

func wantNotFound(t *testing.T, err error, resource, id string) {
	t.Helper()
	nf := asError[*scw.ResourceNotFoundError](t, err)
	if nf.Resource != resource || nf.ResourceID != id {
		t.Fatalf("not found resource %q id %q, want %q %q", nf.Resource, nf.ResourceID, resource, id)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantDiff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func TestSDKSecretLifecycle(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	created := e.now()

	s := e.createSecret(&secret.CreateSecretRequest{
		Name:        "db-password",
		Tags:        []string{"prod", "db"},
		Description: scw.StringPtr("main database"),
		Path:        scw.StringPtr("/app/prod/"),
	})
	if _, err := uuid.Parse(s.ID); err != nil {
		t.Fatalf("id %q is not a UUID", s.ID)
	}
	want := &secret.Secret{
		ID:          s.ID,
		Srn:         wantSRN(s.ID),
		ProjectID:   e.project,
		Name:        "db-password",
		Status:      secret.SecretStatusReady,
		CreatedAt:   &created,
		UpdatedAt:   &created,
		Tags:        []string{"prod", "db"},
		Description: scw.StringPtr("main database"),
		Type:        secret.SecretTypeOpaque,
		Path:        "/app/prod",
		UsedBy:      []secret.Product{},
		Region:      scw.RegionFrPar,
	}
	wantDiff(t, "created secret", want, s)
	wantDiff(t, "got secret", want, e.getSecret(s.ID))

	// Defaults: no tags, no description, no path, unknown type.
	d := e.createSecret(&secret.CreateSecretRequest{Name: "defaults", Type: secret.SecretTypeUnknownType})
	wantDiff(t, "secret with defaults", &secret.Secret{
		ID: d.ID, Srn: wantSRN(d.ID), ProjectID: e.project, Name: "defaults", Status: secret.SecretStatusReady,
		CreatedAt: &created, UpdatedAt: &created, Tags: []string{}, Description: scw.StringPtr(""),
		Type: secret.SecretTypeOpaque, Path: "/", UsedBy: []secret.Product{}, Region: scw.RegionFrPar,
	}, d)

	// A full update moves and renames the secret and bumps updated_at.
	e.clock.Advance(time.Minute)
	updated := e.now()
	u, err := e.api.UpdateSecret(&secret.UpdateSecretRequest{
		SecretID:    s.ID,
		Name:        scw.StringPtr("db-pass"),
		Tags:        &[]string{},
		Description: scw.StringPtr(""),
		Path:        scw.StringPtr("/app/"),
	})
	noErr(t, err)
	want.Name, want.Tags, want.Description, want.Path, want.UpdatedAt = "db-pass", []string{}, scw.StringPtr(""), "/app", &updated
	wantDiff(t, "updated secret", want, u)

	// A partial update changes only what it names.
	e.clock.Advance(time.Minute)
	updated2 := e.now()
	u, err = e.api.UpdateSecret(&secret.UpdateSecretRequest{SecretID: s.ID, Tags: &[]string{"a", "b", "a"}})
	noErr(t, err)
	want.Tags, want.UpdatedAt = []string{"a", "b"}, &updated2
	wantDiff(t, "partially updated secret", want, u)
	wantDiff(t, "secret after updates", want, e.getSecret(s.ID))

	// An ephemeral policy can be set later.
	u, err = e.api.UpdateSecret(&secret.UpdateSecretRequest{SecretID: s.ID, EphemeralPolicy: &secret.EphemeralPolicy{
		TimeToLive: scw.NewDurationFromTimeDuration(time.Hour), ExpiresOnceAccessed: scw.BoolPtr(true),
		Action: secret.EphemeralPolicyActionDelete,
	}})
	noErr(t, err)
	wantDiff(t, "updated policy", &secret.EphemeralPolicy{
		TimeToLive: &scw.Duration{Seconds: 3600}, ExpiresOnceAccessed: scw.BoolPtr(true), Action: secret.EphemeralPolicyActionDelete,
	}, u.EphemeralPolicy)

	// Names are unique in a folder.
	_, err = e.api.CreateSecret(&secret.CreateSecretRequest{Name: "defaults"})
	re := asError[*scw.ResponseError](t, err)
	if re.StatusCode != http.StatusConflict {
		t.Errorf("duplicate name: status %d, want 409", re.StatusCode)
	}
	e.createSecret(&secret.CreateSecretRequest{Name: "defaults", Path: scw.StringPtr("/other")})

	_, err = e.api.GetSecret(&secret.GetSecretRequest{SecretID: "6f1e1c6b-2a37-4c5e-9d0e-8f0e3b8f4a11"})
	wantNotFound(t, err, "secret", "6f1e1c6b-2a37-4c5e-9d0e-8f0e3b8f4a11")
}

func TestSDKDeleteSchedulesThenPurges(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	s := e.createSecret(&secret.CreateSecretRequest{Name: "doomed"})
	e.addVersion(s.ID, "v1")
	e.createSecret(&secret.CreateSecretRequest{Name: "kept"})

	e.clock.Advance(time.Hour)
	deleted := e.now()
	noErr(t, e.api.DeleteSecret(&secret.DeleteSecretRequest{SecretID: s.ID}))

	got := e.getSecret(s.ID)
	if got.DeletionRequestedAt == nil || !got.DeletionRequestedAt.Equal(deleted) || !got.UpdatedAt.Equal(deleted) {
		t.Errorf("scheduled secret: deletion_requested_at %v updated_at %v, want both %v", got.DeletionRequestedAt, got.UpdatedAt, deleted)
	}
	if got.Status != secret.SecretStatusReady {
		t.Errorf("scheduled secret status %q, want ready", got.Status)
	}
	names, total := e.names(&secret.ListSecretsRequest{})
	wantDiff(t, "default listing", []string{"kept"}, names)
	wantDiff(t, "default total", uint64(1), total)
	names, total = e.names(&secret.ListSecretsRequest{ScheduledForDeletion: true})
	wantDiff(t, "scheduled listing", []string{"doomed"}, names)
	wantDiff(t, "scheduled total", uint64(1), total)

	// While scheduled, versions are readable as metadata only.
	if v := e.getVersion(s.ID, "1"); v.Status != secret.SecretVersionStatusEnabled {
		t.Errorf("version of a scheduled secret: status %q", v.Status)
	}
	_, err := e.access(s.ID, "1")
	wantPrecondition(t, err, "")
	_, err = e.api.CreateSecretVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: []byte("v2")})
	wantPrecondition(t, err, "")
	_, err = e.api.UpdateSecret(&secret.UpdateSecretRequest{SecretID: s.ID, Description: scw.StringPtr("x")})
	wantPrecondition(t, err, "")
	err = e.api.DeleteSecretVersion(&secret.DeleteSecretVersionRequest{SecretID: s.ID, Revision: "1"})
	wantPrecondition(t, err, "")

	e.clock.Advance(time.Hour)
	r, err := e.api.RestoreSecret(&secret.RestoreSecretRequest{SecretID: s.ID})
	noErr(t, err)
	if r.DeletionRequestedAt != nil {
		t.Errorf("restored secret: deletion_requested_at %v, want null", r.DeletionRequestedAt)
	}
	names, _ = e.names(&secret.ListSecretsRequest{})
	wantDiff(t, "listing after restore", []string{"doomed", "kept"}, names)
	e.mustAccess(s.ID, "latest", 1, "v1")
	_, err = e.api.RestoreSecret(&secret.RestoreSecretRequest{SecretID: s.ID})
	wantPrecondition(t, err, "")

	// Scheduled again, it is purged 7 days later and not before.
	noErr(t, e.api.DeleteSecret(&secret.DeleteSecretRequest{SecretID: s.ID}))
	e.clock.Advance(coffer.DeletionDelay - time.Second)
	if n := e.runDue(); n != 0 {
		t.Errorf("RunDue before the delay: %d changes, want 0", n)
	}
	e.getSecret(s.ID)
	e.clock.Advance(2 * time.Second)
	if n := e.runDue(); n != 1 {
		t.Errorf("RunDue after the delay: %d changes, want 1", n)
	}
	_, err = e.api.GetSecret(&secret.GetSecretRequest{SecretID: s.ID})
	wantNotFound(t, err, "secret", s.ID)
	_, err = e.access(s.ID, "1")
	wantNotFound(t, err, "secret", s.ID)
	names, _ = e.names(&secret.ListSecretsRequest{ScheduledForDeletion: true})
	wantDiff(t, "scheduled after purge", []string{}, names)
}

func TestSDKDeleteEphemeralSecretAtOnce(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	s := e.createSecret(&secret.CreateSecretRequest{Name: "temp", EphemeralPolicy: &secret.EphemeralPolicy{
		TimeToLive: scw.NewDurationFromTimeDuration(30 * time.Minute), ExpiresOnceAccessed: scw.BoolPtr(false),
		Action: secret.EphemeralPolicyActionDisable,
	}})
	e.addVersion(s.ID, "x")
	noErr(t, e.api.DeleteSecret(&secret.DeleteSecretRequest{SecretID: s.ID}))
	_, err := e.api.GetSecret(&secret.GetSecretRequest{SecretID: s.ID})
	wantNotFound(t, err, "secret", s.ID)
	names, _ := e.names(&secret.ListSecretsRequest{ScheduledForDeletion: true})
	wantDiff(t, "scheduled secrets", []string{}, names)
	_, err = e.api.RestoreSecret(&secret.RestoreSecretRequest{SecretID: s.ID})
	wantNotFound(t, err, "secret", s.ID)
}

func TestSDKProtectedSecret(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	created := e.now()
	s := e.createSecret(&secret.CreateSecretRequest{Name: "guarded", Protected: true})
	if !s.Protected {
		t.Fatal("created with protected=true: protected is false")
	}
	e.addVersion(s.ID, "v1")
	e.addVersion(s.ID, "v2")

	err := e.api.DeleteSecret(&secret.DeleteSecretRequest{SecretID: s.ID})
	pe := asError[*scw.PreconditionFailedError](t, err)
	wantDiff(t, "precondition", scw.PreconditionFailedError{
		Precondition: "protected_resource", HelpMessage: "cannot delete a protected secret",
	}, scw.PreconditionFailedError{Precondition: pe.Precondition, HelpMessage: pe.HelpMessage})
	if got := e.getSecret(s.ID); got.DeletionRequestedAt != nil {
		t.Fatalf("refused delete scheduled the secret anyway")
	}

	// Versions of a protected secret can be deleted.
	noErr(t, e.api.DeleteSecretVersion(&secret.DeleteSecretVersionRequest{SecretID: s.ID, Revision: "1"}))

	e.clock.Advance(time.Minute)
	u, err := e.api.UnprotectSecret(&secret.UnprotectSecretRequest{SecretID: s.ID})
	noErr(t, err)
	if u.Protected || !u.UpdatedAt.Equal(created) {
		t.Errorf("unprotected: protected %v updated_at %v, want false and unchanged %v", u.Protected, u.UpdatedAt, created)
	}
	p, err := e.api.ProtectSecret(&secret.ProtectSecretRequest{SecretID: s.ID})
	noErr(t, err)
	if !p.Protected {
		t.Error("ProtectSecret: protected is false")
	}
	if !e.getSecret(s.ID).Protected {
		t.Error("protection was not stored")
	}
	_, err = e.api.UnprotectSecret(&secret.UnprotectSecretRequest{SecretID: s.ID})
	noErr(t, err)
	noErr(t, e.api.DeleteSecret(&secret.DeleteSecretRequest{SecretID: s.ID}))
	if e.getSecret(s.ID).DeletionRequestedAt == nil {
		t.Error("delete after unprotect did not schedule the secret")
	}
}

func TestSDKAddSecretOwner(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	s := e.createSecret(&secret.CreateSecretRequest{Name: "vpn-psk"})
	for _, p := range []secret.Product{secret.ProductEdgeServices, secret.ProductS2sVpn, secret.ProductEdgeServices} {
		noErr(t, e.api.AddSecretOwner(&secret.AddSecretOwnerRequest{SecretID: s.ID, Product: p}))
	}
	wantDiff(t, "used_by", []secret.Product{secret.ProductEdgeServices, secret.ProductS2sVpn}, e.getSecret(s.ID).UsedBy)

	err := e.api.AddSecretOwner(&secret.AddSecretOwnerRequest{SecretID: s.ID})
	wantInvalid(t, err, "product")
	missing := uuid.NewString()
	err = e.api.AddSecretOwner(&secret.AddSecretOwnerRequest{SecretID: missing, Product: secret.ProductS2sVpn})
	wantNotFound(t, err, "secret", missing)
}

func TestSDKVersions(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	s := e.createSecret(&secret.CreateSecretRequest{Name: "api-key"})
	secretCreated := e.now()

	// Binary data with every byte value survives the round trip.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	e.clock.Advance(time.Second)
	t1 := e.now()
	v1 := e.createVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: all, Description: scw.StringPtr("first")})
	wantDiff(t, "version 1", &secret.SecretVersion{
		Revision: 1, Srn: wantSRN(s.ID, 1), SecretID: s.ID, Status: secret.SecretVersionStatusEnabled,
		CreatedAt: &t1, UpdatedAt: &t1, Description: scw.StringPtr("first"), Latest: true, Region: scw.RegionFrPar,
	}, v1)
	a, err := e.access(s.ID, "1")
	noErr(t, err)
	wantDiff(t, "access 1", &secret.AccessSecretVersionResponse{SecretID: s.ID, Revision: 1, Data: all, Type: secret.SecretTypeOpaque}, a)

	// data_crc32 is checked and handed back.
	e.clock.Advance(time.Second)
	data2 := []byte("second value")
	crc := crc32.ChecksumIEEE(data2)
	v2 := e.createVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: data2, DataCrc32: &crc})
	if v2.Revision != 2 || !v2.Latest || v2.Description == nil || *v2.Description != "" {
		t.Errorf("version 2: revision %d latest %v description %v", v2.Revision, v2.Latest, v2.Description)
	}
	if e.getVersion(s.ID, "1").Latest {
		t.Error("version 1 is still latest")
	}
	a, err = e.access(s.ID, "latest")
	noErr(t, err)
	wantDiff(t, "access latest", &secret.AccessSecretVersionResponse{SecretID: s.ID, Revision: 2, Data: data2, DataCrc32: &crc, Type: secret.SecretTypeOpaque}, a)
	bad := crc + 1
	_, err = e.api.CreateSecretVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: data2, DataCrc32: &bad})
	wantInvalid(t, err, "data_crc32")

	// Versions do not change the secret's updated_at.
	got := e.getSecret(s.ID)
	if got.VersionCount != 2 || !got.UpdatedAt.Equal(secretCreated) {
		t.Errorf("secret: version_count %d updated_at %v, want 2 and %v", got.VersionCount, got.UpdatedAt, secretCreated)
	}
	states, total := e.versionStates(s.ID)
	wantDiff(t, "versions", []string{"2:enabled", "1:enabled"}, states)
	wantDiff(t, "version total", uint64(2), total)
	if v := e.getVersion(s.ID, "latest"); v.Revision != 2 || !v.Latest {
		t.Errorf("latest: revision %d latest %v", v.Revision, v.Latest)
	}

	e.clock.Advance(time.Second)
	t3 := e.now()
	uv, err := e.api.UpdateSecretVersion(&secret.UpdateSecretVersionRequest{SecretID: s.ID, Revision: "1", Description: scw.StringPtr("renamed")})
	noErr(t, err)
	if !cmp.Equal(uv.Description, scw.StringPtr("renamed")) || !uv.UpdatedAt.Equal(t3) || !uv.CreatedAt.Equal(t1) {
		t.Errorf("updated version: description %v updated_at %v created_at %v", uv.Description, uv.UpdatedAt, uv.CreatedAt)
	}
	wantDiff(t, "stored description", scw.StringPtr("renamed"), e.getVersion(s.ID, "1").Description)

	// Disable and enable.
	dv, err := e.api.DisableSecretVersion(&secret.DisableSecretVersionRequest{SecretID: s.ID, Revision: "2"})
	noErr(t, err)
	if dv.Status != secret.SecretVersionStatusDisabled || !dv.Latest {
		t.Errorf("disabled version: status %q latest %v", dv.Status, dv.Latest)
	}
	_, err = e.access(s.ID, "2")
	wantPrecondition(t, err, "")
	_, err = e.access(s.ID, "latest")
	wantPrecondition(t, err, "")
	e.mustAccess(s.ID, "latest_enabled", 1, string(all))
	if v := e.getVersion(s.ID, "latest_enabled"); v.Revision != 1 {
		t.Errorf("latest_enabled: revision %d, want 1", v.Revision)
	}
	ev, err := e.api.EnableSecretVersion(&secret.EnableSecretVersionRequest{SecretID: s.ID, Revision: "2"})
	noErr(t, err)
	if ev.Status != secret.SecretVersionStatusEnabled {
		t.Errorf("enabled version: status %q", ev.Status)
	}
	e.mustAccess(s.ID, "2", 2, string(data2))

	// disable_previous disables only the version that was latest.
	v3 := e.createVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: []byte("third"), DisablePrevious: scw.BoolPtr(true)})
	if v3.Revision != 3 || v3.Status != secret.SecretVersionStatusEnabled {
		t.Errorf("version 3: revision %d status %q", v3.Revision, v3.Status)
	}
	states, _ = e.versionStates(s.ID)
	wantDiff(t, "versions after disable_previous", []string{"3:enabled", "2:disabled", "1:enabled"}, states)
	// With the previous version already disabled it is a no-op.
	noErr(t, func() error {
		_, err := e.api.DisableSecretVersion(&secret.DisableSecretVersionRequest{SecretID: s.ID, Revision: "3"})
		return err
	}())
	e.createVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: []byte("fourth"), DisablePrevious: scw.BoolPtr(true)})
	states, _ = e.versionStates(s.ID)
	wantDiff(t, "versions after a no-op disable_previous", []string{"4:enabled", "3:disabled", "2:disabled", "1:enabled"}, states)

	_, err = e.api.GetSecretVersion(&secret.GetSecretVersionRequest{SecretID: s.ID, Revision: "99"})
	wantNotFound(t, err, "secret_version", "99")
	_, err = e.access(s.ID, "99")
	wantNotFound(t, err, "secret_version", "99")
}

func TestSDKPayloadSize(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	s := e.createSecret(&secret.CreateSecretRequest{Name: "big"})
	full := bytes.Repeat([]byte{0xa5}, coffer.MaxPayloadSize)
	e.createVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: full})
	a, err := e.access(s.ID, "1")
	noErr(t, err)
	if !bytes.Equal(a.Data, full) {
		t.Errorf("64 KiB payload came back as %d different bytes", len(a.Data))
	}
	_, err = e.api.CreateSecretVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: append(full, 0)})
	wantInvalid(t, err, "data")
	if _, total := e.versionStates(s.ID); total != 1 {
		t.Errorf("refused payload created a version: total %d", total)
	}
}

func TestSDKVersionDeletion(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	s := e.createSecret(&secret.CreateSecretRequest{Name: "rotated"})
	created := e.now()
	for _, d := range []string{"v1", "v2", "v3"} {
		e.addVersion(s.ID, d)
	}
	_, err := e.api.DisableSecretVersion(&secret.DisableSecretVersionRequest{SecretID: s.ID, Revision: "2"})
	noErr(t, err)

	e.clock.Advance(time.Minute)
	deleted := e.now()
	noErr(t, e.api.DeleteSecretVersion(&secret.DeleteSecretVersionRequest{SecretID: s.ID, Revision: "3"}))
	wantDiff(t, "scheduled version", &secret.SecretVersion{
		Revision: 3, Srn: wantSRN(s.ID, 3), SecretID: s.ID, Status: secret.SecretVersionStatusScheduledForDeletion,
		CreatedAt: &created, UpdatedAt: &created, Description: scw.StringPtr(""), Latest: true,
		DeletionRequestedAt: &deleted, Region: scw.RegionFrPar,
	}, e.getVersion(s.ID, "3"))
	states, total := e.versionStates(s.ID)
	wantDiff(t, "versions", []string{"3:scheduled_for_deletion", "2:disabled", "1:enabled"}, states)
	wantDiff(t, "total", uint64(3), total)
	if c := e.getSecret(s.ID).VersionCount; c != 3 {
		t.Errorf("version_count %d, want 3", c)
	}
	_, err = e.access(s.ID, "3")
	wantPrecondition(t, err, "")
	res, err := e.api.ListSecretVersions(&secret.ListSecretVersionsRequest{SecretID: s.ID,
		Status: []secret.SecretVersionStatus{secret.SecretVersionStatusScheduledForDeletion}})
	noErr(t, err)
	if len(res.Versions) != 1 || res.Versions[0].Revision != 3 || res.TotalCount != 1 {
		t.Errorf("status filter: %d versions, total %d", len(res.Versions), res.TotalCount)
	}
	res, err = e.api.ListSecretVersions(&secret.ListSecretVersionsRequest{SecretID: s.ID,
		Status: []secret.SecretVersionStatus{secret.SecretVersionStatusEnabled, secret.SecretVersionStatusDisabled}})
	noErr(t, err)
	if len(res.Versions) != 2 || res.TotalCount != 2 {
		t.Errorf("two-status filter: %d versions, total %d", len(res.Versions), res.TotalCount)
	}

	// Restore returns each version to the status it had.
	noErr(t, e.api.DeleteSecretVersion(&secret.DeleteSecretVersionRequest{SecretID: s.ID, Revision: "2"}))
	r3, err := e.api.RestoreSecretVersion(&secret.RestoreSecretVersionRequest{SecretID: s.ID, Revision: "3"})
	noErr(t, err)
	if r3.Status != secret.SecretVersionStatusEnabled || r3.DeletionRequestedAt != nil {
		t.Errorf("restored 3: status %q deletion_requested_at %v", r3.Status, r3.DeletionRequestedAt)
	}
	r2, err := e.api.RestoreSecretVersion(&secret.RestoreSecretVersionRequest{SecretID: s.ID, Revision: "2"})
	noErr(t, err)
	if r2.Status != secret.SecretVersionStatusDisabled {
		t.Errorf("restored 2: status %q, want disabled", r2.Status)
	}
	e.mustAccess(s.ID, "3", 3, "v3")
	_, err = e.api.RestoreSecretVersion(&secret.RestoreSecretVersionRequest{SecretID: s.ID, Revision: "3"})
	wantPrecondition(t, err, "")

	// Revisions are never reused.
	noErr(t, e.api.DeleteSecretVersion(&secret.DeleteSecretVersionRequest{SecretID: s.ID, Revision: "latest"}))
	if v := e.addVersion(s.ID, "v4"); v.Revision != 4 {
		t.Errorf("new version after deleting 3: revision %d, want 4", v.Revision)
	}

	// A scheduled version is purged after the deletion delay.
	e.clock.Advance(coffer.DeletionDelay - time.Second)
	if n := e.runDue(); n != 0 {
		t.Errorf("RunDue before the delay: %d changes", n)
	}
	e.clock.Advance(2 * time.Second)
	if n := e.runDue(); n != 1 {
		t.Errorf("RunDue after the delay: %d changes, want 1", n)
	}
	v3 := e.getVersion(s.ID, "3")
	if v3.Status != secret.SecretVersionStatusDeleted || v3.DeletedAt == nil || !v3.DeletedAt.Equal(e.now()) {
		t.Errorf("purged version: status %q deleted_at %v", v3.Status, v3.DeletedAt)
	}
	_, err = e.access(s.ID, "3")
	wantPrecondition(t, err, "")
	_, err = e.api.RestoreSecretVersion(&secret.RestoreSecretVersionRequest{SecretID: s.ID, Revision: "3"})
	wantPrecondition(t, err, "")
	e.mustAccess(s.ID, "latest", 4, "v4")
}

func TestSDKEphemeralTTL(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	policy := func(action secret.EphemeralPolicyAction) *secret.EphemeralPolicy {
		return &secret.EphemeralPolicy{TimeToLive: scw.NewDurationFromTimeDuration(30 * time.Minute),
			ExpiresOnceAccessed: scw.BoolPtr(false), Action: action}
	}
	accessed := e.createSecret(&secret.CreateSecretRequest{Name: "accessed", EphemeralPolicy: policy(secret.EphemeralPolicyActionDisable)})
	wantDiff(t, "policy", &secret.EphemeralPolicy{TimeToLive: &scw.Duration{Seconds: 1800}, ExpiresOnceAccessed: scw.BoolPtr(false),
		Action: secret.EphemeralPolicyActionDisable}, accessed.EphemeralPolicy)
	disabled := e.createSecret(&secret.CreateSecretRequest{Name: "disabled-by-job", EphemeralPolicy: policy(secret.EphemeralPolicyActionDisable)})
	deleted := e.createSecret(&secret.CreateSecretRequest{Name: "deleted-by-job", EphemeralPolicy: policy(secret.EphemeralPolicyActionDelete)})
	plain := e.createSecret(&secret.CreateSecretRequest{Name: "plain"})

	expires := e.now().Add(30 * time.Minute)
	v := e.addVersion(accessed.ID, "a")
	wantDiff(t, "ephemeral properties", &secret.EphemeralProperties{ExpiresAt: &expires, ExpiresOnceAccessed: scw.BoolPtr(false),
		Action: secret.EphemeralPolicyActionDisable}, v.EphemeralProperties)
	e.addVersion(disabled.ID, "b")
	e.addVersion(deleted.ID, "c")
	if pv := e.addVersion(plain.ID, "d"); pv.EphemeralProperties != nil {
		t.Errorf("version of a plain secret has ephemeral properties %+v", pv.EphemeralProperties)
	}

	e.clock.Advance(30*time.Minute - time.Second)
	e.mustAccess(accessed.ID, "1", 1, "a")
	if n := e.runDue(); n != 0 {
		t.Errorf("RunDue before expiry: %d changes", n)
	}

	e.clock.Advance(2 * time.Second)
	_, err := e.access(accessed.ID, "1")
	wantPrecondition(t, err, "")
	if st := e.getVersion(accessed.ID, "1").Status; st != secret.SecretVersionStatusDisabled {
		t.Errorf("expired version read after expiry: status %q, want disabled", st)
	}
	if n := e.runDue(); n != 2 {
		t.Errorf("RunDue after expiry: %d changes, want 2", n)
	}
	if st := e.getVersion(disabled.ID, "1").Status; st != secret.SecretVersionStatusDisabled {
		t.Errorf("action disable: status %q", st)
	}
	dv := e.getVersion(deleted.ID, "1")
	if dv.Status != secret.SecretVersionStatusDeleted || dv.DeletedAt == nil {
		t.Errorf("action delete: status %q deleted_at %v", dv.Status, dv.DeletedAt)
	}
	for _, id := range []string{disabled.ID, deleted.ID} {
		_, err := e.access(id, "1")
		wantPrecondition(t, err, "")
	}
	e.mustAccess(plain.ID, "1", 1, "d")

	// Enabling again applies the policy anew, from now.
	e.clock.Advance(time.Minute)
	expires = e.now().Add(30 * time.Minute)
	ev, err := e.api.EnableSecretVersion(&secret.EnableSecretVersionRequest{SecretID: disabled.ID, Revision: "1"})
	noErr(t, err)
	if ev.Status != secret.SecretVersionStatusEnabled || ev.EphemeralProperties == nil || !ev.EphemeralProperties.ExpiresAt.Equal(expires) {
		t.Errorf("re-enabled version: status %q properties %+v, want expiry %v", ev.Status, ev.EphemeralProperties, expires)
	}
	e.mustAccess(disabled.ID, "1", 1, "b")
}

func TestSDKEphemeralExpiresOnceAccessed(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	for _, tc := range []struct {
		action secret.EphemeralPolicyAction
		after  secret.SecretVersionStatus
	}{
		{secret.EphemeralPolicyActionDisable, secret.SecretVersionStatusDisabled},
		{secret.EphemeralPolicyActionDelete, secret.SecretVersionStatusDeleted},
	} {
		t.Run(string(tc.action), func(t *testing.T) {
			e := e.with(t)
			s := e.createSecret(&secret.CreateSecretRequest{Name: "once-" + string(tc.action),
				EphemeralPolicy: &secret.EphemeralPolicy{ExpiresOnceAccessed: scw.BoolPtr(true), Action: tc.action}})
			wantDiff(t, "policy", &secret.EphemeralPolicy{ExpiresOnceAccessed: scw.BoolPtr(true), Action: tc.action}, s.EphemeralPolicy)
			v := e.addVersion(s.ID, "one-time")
			wantDiff(t, "ephemeral properties", &secret.EphemeralProperties{ExpiresOnceAccessed: scw.BoolPtr(true), Action: tc.action}, v.EphemeralProperties)

			e.mustAccess(s.ID, "1", 1, "one-time")
			_, err := e.access(s.ID, "1")
			wantPrecondition(t, err, "")
			if st := e.getVersion(s.ID, "1").Status; st != tc.after {
				t.Errorf("after one access: status %q, want %q", st, tc.after)
			}

			// The next version gets a new revision and the same policy.
			if v2 := e.addVersion(s.ID, "two"); v2.Revision != 2 {
				t.Errorf("next version: revision %d, want 2", v2.Revision)
			}
			e.mustAccess(s.ID, "latest", 2, "two")
			_, err = e.access(s.ID, "2")
			wantPrecondition(t, err, "")
		})
	}
}

// selfSignedCert returns a fresh self-signed certificate and its private
// key, PEM-encoded.
func selfSignedCert(t *testing.T) (cert, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noErr(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "coffer.test"},
		DNSNames:     []string{"coffer.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	noErr(t, err)
	kder, err := x509.MarshalECPrivateKey(k)
	noErr(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// sshPrivateKey returns a fresh Ed25519 private key in PKCS #8 PEM.
func sshPrivateKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	noErr(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	noErr(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	noErr(t, err)
	return string(b)
}

func TestSDKSecretTypes(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	cert, certKey := selfSignedCert(t)
	sshKey := sshPrivateKey(t)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	db := secret.DatabaseCredentials{Engine: "postgres", Username: "app", Password: "s3cr3t", Host: "db.internal", Dbname: "app", Port: "5432"}

	for _, tc := range []struct {
		typ     secret.SecretType
		valid   []string
		invalid []string
	}{
		{secret.SecretTypeOpaque, []string{"anything at all", string(all), ""}, nil},
		{secret.SecretTypeKeyValue,
			[]string{`{"user":"admin","port":5432,"debug":true}`, `{}`},
			[]string{`{"user":{"name":"admin"}}`, `{"hosts":["a","b"]}`, `["a"]`, `"text"`, `not json`, `{"a":"b"}{"c":"d"}`}},
		{secret.SecretTypeBasicCredentials,
			[]string{mustJSON(t, secret.BasicCredentials{Username: "admin", Password: "hunter2"})},
			[]string{`{"username":"admin"}`, `{"username":"admin","password":5}`, `{"username":"a","password":"b","extra":"c"}`, `admin:hunter2`}},
		{secret.SecretTypeDatabaseCredentials,
			[]string{mustJSON(t, db)},
			[]string{
				strings.Replace(mustJSON(t, db), `"5432"`, `"54a2"`, 1),
				strings.Replace(mustJSON(t, db), `"5432"`, `5432`, 1),
				strings.Replace(mustJSON(t, db), `"5432"`, `""`, 1),
				`{"engine":"postgres","username":"app","password":"x","dbname":"app","port":"5432"}`,
			}},
		{secret.SecretTypeCertificate,
			[]string{string(cert), string(cert) + string(certKey)},
			[]string{"not a certificate", string(cert) + "trailing garbage", ""}},
		{secret.SecretTypeSSHKey,
			[]string{mustJSON(t, secret.SSHKey{SSHPrivateKey: sshKey}), mustJSON(t, secret.SSHKey{SSHPrivateKey: string(certKey)})},
			[]string{mustJSON(t, secret.SSHKey{SSHPrivateKey: "not a key"}), mustJSON(t, secret.SSHKey{SSHPrivateKey: string(cert)}), `{}`}},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			e := e.with(t)
			s := e.createSecret(&secret.CreateSecretRequest{Name: "typed-" + string(tc.typ), Type: tc.typ})
			if s.Type != tc.typ {
				t.Fatalf("created type %q, want %q", s.Type, tc.typ)
			}
			for i, data := range tc.valid {
				v := e.createVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: []byte(data)})
				a, err := e.access(s.ID, fmt.Sprint(v.Revision))
				noErr(t, err)
				wantDiff(t, fmt.Sprintf("valid payload %d", i),
					&secret.AccessSecretVersionResponse{SecretID: s.ID, Revision: v.Revision, Data: []byte(data), Type: tc.typ}, a)
			}
			for i, data := range tc.invalid {
				_, err := e.api.CreateSecretVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: []byte(data)})
				if err == nil {
					t.Errorf("invalid payload %d was accepted: %q", i, data)
					continue
				}
				ie := wantInvalid(t, err, "data")
				if ie.Details[0].Reason != "format" {
					t.Errorf("invalid payload %d: reason %q, want format", i, ie.Details[0].Reason)
				}
			}
			if _, total := e.versionStates(s.ID); total != uint64(len(tc.valid)) {
				t.Errorf("%d versions, want %d", total, len(tc.valid))
			}
		})
	}

	// The recorded message for a nested key_value object.
	s := e.createSecret(&secret.CreateSecretRequest{Name: "kv-nested", Type: secret.SecretTypeKeyValue})
	_, err := e.api.CreateSecretVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: []byte(`{"a":{"b":"c"}}`)})
	ie := wantInvalid(t, err, "data")
	if !strings.Contains(ie.Details[0].HelpMessage, "Invalid type. Expected: string, given: object") {
		t.Errorf("help message %q", ie.Details[0].HelpMessage)
	}

	// ListSecretTypes lists each type in use once.
	res, err := e.api.ListSecretTypes(&secret.ListSecretTypesRequest{})
	noErr(t, err)
	wantTypes := []secret.SecretType{
		secret.SecretTypeBasicCredentials, secret.SecretTypeCertificate, secret.SecretTypeDatabaseCredentials,
		secret.SecretTypeKeyValue, secret.SecretTypeOpaque, secret.SecretTypeSSHKey,
	}
	slices.Sort(res.Types)
	wantDiff(t, "types", wantTypes, res.Types)
	wantDiff(t, "types total", uint64(6), res.TotalCount)

	e.rec.reset()
	res, err = e.api.ListSecretTypes(&secret.ListSecretTypesRequest{PageSize: scw.Uint32Ptr(4)}, scw.WithAllPages())
	noErr(t, err)
	slices.Sort(res.Types)
	wantDiff(t, "all pages of types", wantTypes, res.Types)
	if n := len(e.rec.requests("GET", "/secret-types")); n != 2 {
		t.Errorf("all pages of 6 types by 4: %d requests, want 2", n)
	}
}

func TestSDKListFilters(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	ttl := &secret.EphemeralPolicy{TimeToLive: scw.NewDurationFromTimeDuration(time.Hour), Action: secret.EphemeralPolicyActionDelete}
	e.createSecret(&secret.CreateSecretRequest{Name: "alpha", Tags: []string{"x", "y"}})
	e.createSecret(&secret.CreateSecretRequest{Name: "bravo", Tags: []string{"x"}, Path: scw.StringPtr("/app"), Type: secret.SecretTypeKeyValue})
	e.createSecret(&secret.CreateSecretRequest{Name: "charlie", Path: scw.StringPtr("/app"), EphemeralPolicy: ttl})
	e.createSecret(&secret.CreateSecretRequest{Name: "alpha", Path: scw.StringPtr("/app/db"), Tags: []string{"y"}})
	gone := e.createSecret(&secret.CreateSecretRequest{Name: "delta", Tags: []string{"x"}})
	noErr(t, e.api.DeleteSecret(&secret.DeleteSecretRequest{SecretID: gone.ID}))

	other := uuid.NewString()
	for _, tc := range []struct {
		name string
		req  secret.ListSecretsRequest
		want []string
	}{
		{"no filter", secret.ListSecretsRequest{}, []string{"alpha", "alpha", "bravo", "charlie"}},
		{"name", secret.ListSecretsRequest{Name: scw.StringPtr("alpha")}, []string{"alpha", "alpha"}},
		{"name no match", secret.ListSecretsRequest{Name: scw.StringPtr("alp")}, []string{}},
		{"path", secret.ListSecretsRequest{Path: scw.StringPtr("/app")}, []string{"bravo", "charlie"}},
		{"path root", secret.ListSecretsRequest{Path: scw.StringPtr("/")}, []string{"alpha"}},
		{"name and path", secret.ListSecretsRequest{Name: scw.StringPtr("alpha"), Path: scw.StringPtr("/app/db")}, []string{"alpha"}},
		{"one tag", secret.ListSecretsRequest{Tags: []string{"x"}}, []string{"alpha", "bravo"}},
		{"every tag", secret.ListSecretsRequest{Tags: []string{"x", "y"}}, []string{"alpha"}},
		{"unknown tag", secret.ListSecretsRequest{Tags: []string{"z"}}, []string{}},
		{"type", secret.ListSecretsRequest{Type: secret.SecretTypeKeyValue}, []string{"bravo"}},
		{"type opaque", secret.ListSecretsRequest{Type: secret.SecretTypeOpaque}, []string{"alpha", "alpha", "charlie"}},
		{"ephemeral", secret.ListSecretsRequest{Ephemeral: scw.BoolPtr(true)}, []string{"charlie"}},
		{"not ephemeral", secret.ListSecretsRequest{Ephemeral: scw.BoolPtr(false)}, []string{"alpha", "alpha", "bravo"}},
		{"scheduled for deletion", secret.ListSecretsRequest{ScheduledForDeletion: true}, []string{"delta"}},
		{"scheduled with tag", secret.ListSecretsRequest{ScheduledForDeletion: true, Tags: []string{"y"}}, []string{}},
		{"project", secret.ListSecretsRequest{ProjectID: &e.project}, []string{"alpha", "alpha", "bravo", "charlie"}},
		{"organization", secret.ListSecretsRequest{OrganizationID: &e.org}, []string{"alpha", "alpha", "bravo", "charlie"}},
		{"other organization", secret.ListSecretsRequest{OrganizationID: &other}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, total := e.with(t).names(&tc.req)
			wantDiff(t, "names", tc.want, names)
			wantDiff(t, "total_count", uint64(len(tc.want)), total)
		})
	}

	_, err := e.api.ListSecrets(&secret.ListSecretsRequest{ProjectID: &other})
	wantNotFound(t, err, "project", other)
}

func TestSDKListOrder(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	// Created in the order c, a, d, b; updated in the order d, c, b, a.
	ids := map[string]string{}
	for _, name := range []string{"c", "a", "d", "b"} {
		ids[name] = e.createSecret(&secret.CreateSecretRequest{Name: name}).ID
		e.clock.Advance(time.Second)
	}
	for _, name := range []string{"d", "c", "b", "a"} {
		_, err := e.api.UpdateSecret(&secret.UpdateSecretRequest{SecretID: ids[name], Description: scw.StringPtr("touched")})
		noErr(t, err)
		e.clock.Advance(time.Second)
	}
	for _, tc := range []struct {
		order secret.ListSecretsRequestOrderBy
		want  []string
	}{
		{secret.ListSecretsRequestOrderByNameAsc, []string{"a", "b", "c", "d"}},
		{secret.ListSecretsRequestOrderByNameDesc, []string{"d", "c", "b", "a"}},
		{secret.ListSecretsRequestOrderByCreatedAtAsc, []string{"c", "a", "d", "b"}},
		{secret.ListSecretsRequestOrderByCreatedAtDesc, []string{"b", "d", "a", "c"}},
		{secret.ListSecretsRequestOrderByUpdatedAtAsc, []string{"d", "c", "b", "a"}},
		{secret.ListSecretsRequestOrderByUpdatedAtDesc, []string{"a", "b", "c", "d"}},
	} {
		names, _ := e.names(&secret.ListSecretsRequest{OrderBy: tc.order})
		wantDiff(t, string(tc.order), tc.want, names)
	}
	// The unset order is name_asc.
	names, _ := e.names(&secret.ListSecretsRequest{})
	wantDiff(t, "default order", []string{"a", "b", "c", "d"}, names)
}

func TestSDKPaging(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	const n = 120
	for i := range n {
		e.createSecret(&secret.CreateSecretRequest{Name: fmt.Sprintf("s%03d", i), Tags: []string{fmt.Sprintf("t%d", i%7)}})
	}

	for _, tc := range []struct {
		page, size int
		first      string
		count      int
	}{
		{1, 50, "s000", 50},
		{2, 50, "s050", 50},
		{3, 50, "s100", 20},
		{4, 50, "", 0},
		{1, 0, "s000", 50}, // page_size=0 means the default
		{7, 17, "s102", 17},
	} {
		res, err := e.api.ListSecrets(&secret.ListSecretsRequest{Page: scw.Int32Ptr(int32(tc.page)), PageSize: scw.Uint32Ptr(uint32(tc.size))})
		noErr(t, err)
		first := ""
		if len(res.Secrets) > 0 {
			first = res.Secrets[0].Name
		}
		if len(res.Secrets) != tc.count || first != tc.first || res.TotalCount != n {
			t.Errorf("page %d of %d: %d secrets from %q, total %d; want %d from %q, total %d",
				tc.page, tc.size, len(res.Secrets), first, res.TotalCount, tc.count, tc.first, n)
		}
	}

	// The SDK's all-pages helper reads 3 pages of 50 and gets each secret once.
	e.rec.reset()
	res, err := e.api.ListSecrets(&secret.ListSecretsRequest{PageSize: scw.Uint32Ptr(50)}, scw.WithAllPages())
	noErr(t, err)
	seen := map[string]bool{}
	for _, s := range res.Secrets {
		seen[s.ID] = true
	}
	if len(res.Secrets) != n || len(seen) != n {
		t.Errorf("all pages: %d secrets, %d distinct, want %d", len(res.Secrets), len(seen), n)
	}
	var pages []string
	for _, r := range e.rec.requests("GET", "/secrets") {
		pages = append(pages, r.Query.Get("page")+"/"+r.Query.Get("page_size"))
	}
	wantDiff(t, "pages requested", []string{"1/50", "2/50", "3/50"}, pages)

	// Tags: 7 distinct, 3 pages of 3.
	e.rec.reset()
	tags, err := e.api.ListTags(&secret.ListTagsRequest{PageSize: scw.Uint32Ptr(3)}, scw.WithAllPages())
	noErr(t, err)
	wantDiff(t, "all tags", []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6"}, tags.Tags)
	if got := len(e.rec.requests("GET", "/tags")); got != 3 {
		t.Errorf("all pages of 7 tags by 3: %d requests, want 3", got)
	}
	tags, err = e.api.ListTags(&secret.ListTagsRequest{Page: scw.Int32Ptr(3), PageSize: scw.Uint32Ptr(3)})
	noErr(t, err)
	wantDiff(t, "third page of tags", []string{"t6"}, tags.Tags)
	wantDiff(t, "tag total", uint64(7), tags.TotalCount)

	// Versions: 5, listed newest first in 3 pages of 2.
	s := e.createSecret(&secret.CreateSecretRequest{Name: "versioned"})
	for i := range 5 {
		e.addVersion(s.ID, fmt.Sprint(i))
	}
	e.rec.reset()
	vs, err := e.api.ListSecretVersions(&secret.ListSecretVersionsRequest{SecretID: s.ID, PageSize: scw.Uint32Ptr(2)}, scw.WithAllPages())
	noErr(t, err)
	var revs []uint32
	for _, v := range vs.Versions {
		revs = append(revs, v.Revision)
	}
	wantDiff(t, "all versions", []uint32{5, 4, 3, 2, 1}, revs)
	if got := len(e.rec.requests("GET", "/versions")); got != 3 {
		t.Errorf("all pages of 5 versions by 2: %d requests, want 3", got)
	}

	// Past the end: an empty page, the same total.
	vs, err = e.api.ListSecretVersions(&secret.ListSecretVersionsRequest{SecretID: s.ID, Page: scw.Int32Ptr(4), PageSize: scw.Uint32Ptr(2)})
	noErr(t, err)
	wantDiff(t, "versions past the end", &secret.ListSecretVersionsResponse{Versions: []*secret.SecretVersion{}, TotalCount: 5}, vs)
	tags, err = e.api.ListTags(&secret.ListTagsRequest{Page: scw.Int32Ptr(9), PageSize: scw.Uint32Ptr(3)})
	noErr(t, err)
	wantDiff(t, "tags past the end", &secret.ListTagsResponse{Tags: []string{}, TotalCount: 7}, tags)
	res, err = e.api.ListSecrets(&secret.ListSecretsRequest{Page: scw.Int32Ptr(100)})
	noErr(t, err)
	wantDiff(t, "secrets past the end", &secret.ListSecretsResponse{Secrets: []*secret.Secret{}, TotalCount: n + 1}, res)
}

// browsed is the part of a browse item a test compares.
type browsed struct {
	Name   string
	Folder bool
	ID     string
	Type   secret.SecretType
	Tags   []string
	Count  uint32
}

func itemNames(items []browsed) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func (e *sdkEnv) browse(req *secret.BrowseSecretsRequest, opts ...scw.RequestOption) ([]browsed, string, uint64) {
	e.t.Helper()
	res, err := e.api.BrowseSecrets(req, opts...)
	if err != nil {
		e.t.Fatalf("BrowseSecrets: %v", err)
	}
	out := []browsed{}
	for _, it := range res.Items {
		if (it.Secret == nil) == (it.Folder == nil) {
			e.t.Fatalf("item %q: want exactly one of secret and folder", it.Name)
		}
		if it.CreatedAt == nil || it.UpdatedAt == nil {
			e.t.Errorf("item %q: missing timestamps", it.Name)
		}
		i := browsed{Name: it.Name, Folder: it.Folder != nil}
		if s := it.Secret; s != nil {
			i.ID, i.Type, i.Tags, i.Count = s.ID, s.Type, s.Tags, s.VersionCount
		}
		out = append(out, i)
	}
	return out, res.CurrentPath, res.TotalCount
}

func TestSDKBrowseSecrets(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	mk := func(name, path string, typ secret.SecretType, tags ...string) *secret.Secret {
		if tags == nil {
			tags = []string{}
		}
		s := e.createSecret(&secret.CreateSecretRequest{Name: name, Path: scw.StringPtr(path), Type: typ, Tags: tags})
		e.clock.Advance(time.Second)
		return s
	}
	root2 := mk("root2", "/", secret.SecretTypeOpaque)
	t0 := e.now()
	s1 := mk("s1", "/app", secret.SecretTypeOpaque, "web")
	root1 := mk("root1", "/", secret.SecretTypeKeyValue, "web")
	mk("s2", "/app/db", secret.SecretTypeOpaque)
	t1 := e.now()
	mk("s3", "/ops", secret.SecretTypeOpaque)
	mk("s4", "/apple", secret.SecretTypeOpaque)
	e.addVersion(root1.ID, `{"k":"v"}`)
	gone := mk("gone", "/gone", secret.SecretTypeOpaque)
	noErr(t, e.api.DeleteSecret(&secret.DeleteSecretRequest{SecretID: gone.ID}))

	items, current, total := e.browse(&secret.BrowseSecretsRequest{})
	wantDiff(t, "root", []browsed{
		{Name: "app", Folder: true},
		{Name: "apple", Folder: true},
		{Name: "ops", Folder: true},
		{Name: "root1", ID: root1.ID, Type: secret.SecretTypeKeyValue, Tags: []string{"web"}, Count: 1},
		{Name: "root2", ID: root2.ID, Type: secret.SecretTypeOpaque, Tags: []string{}},
	}, items)
	wantDiff(t, "root current_path", "/", current)
	wantDiff(t, "root total", uint64(5), total)

	items, current, total = e.browse(&secret.BrowseSecretsRequest{Prefix: "/app/"})
	wantDiff(t, "/app", []browsed{
		{Name: "db", Folder: true},
		{Name: "s1", ID: s1.ID, Type: secret.SecretTypeOpaque, Tags: []string{"web"}},
	}, items)
	wantDiff(t, "/app current_path", "/app", current)
	wantDiff(t, "/app total", uint64(2), total)

	items, current, _ = e.browse(&secret.BrowseSecretsRequest{Prefix: "/app/db"})
	wantDiff(t, "/app/db", []string{"s2"}, itemNames(items))
	wantDiff(t, "/app/db current_path", "/app/db", current)
	items, _, total = e.browse(&secret.BrowseSecretsRequest{Prefix: "/nowhere"})
	if len(items) != 0 || total != 0 {
		t.Errorf("/nowhere: %+v total %d", items, total)
	}

	// Filters and orders.
	items, _, _ = e.browse(&secret.BrowseSecretsRequest{Tags: []string{"web"}})
	wantDiff(t, "root with tag web", []string{"app", "root1"}, itemNames(items))
	items, _, _ = e.browse(&secret.BrowseSecretsRequest{Type: secret.SecretTypeKeyValue})
	wantDiff(t, "root of type key_value", []string{"root1"}, itemNames(items))
	items, _, _ = e.browse(&secret.BrowseSecretsRequest{OrderBy: secret.BrowseSecretsRequestOrderByNameDesc})
	wantDiff(t, "root by name desc", []string{"root2", "root1", "ops", "apple", "app"}, itemNames(items))
	items, _, _ = e.browse(&secret.BrowseSecretsRequest{OrderBy: secret.BrowseSecretsRequestOrderByCreatedAtAsc})
	wantDiff(t, "root by creation", []string{"root2", "app", "root1", "ops", "apple"}, itemNames(items))
	items, _, _ = e.browse(&secret.BrowseSecretsRequest{OrderBy: secret.BrowseSecretsRequestOrderByUpdatedAtDesc})
	wantDiff(t, "root by update desc", []string{"apple", "ops", "app", "root1", "root2"}, itemNames(items))

	// A folder's times span the secrets below it.
	res, err := e.api.BrowseSecrets(&secret.BrowseSecretsRequest{})
	noErr(t, err)
	app := res.Items[0]
	if app.Name != "app" || !app.CreatedAt.Equal(t0) || !app.UpdatedAt.Equal(t1.Add(-time.Second)) {
		t.Errorf("folder app: created %v updated %v, want %v and %v", app.CreatedAt, app.UpdatedAt, t0, t1.Add(-time.Second))
	}

	// Pages.
	e.rec.reset()
	items, _, _ = e.browse(&secret.BrowseSecretsRequest{PageSize: scw.Uint32Ptr(2)}, scw.WithAllPages())
	wantDiff(t, "all pages", []string{"app", "apple", "ops", "root1", "root2"}, itemNames(items))
	if got := len(e.rec.requests("GET", "/secrets/browse")); got != 3 {
		t.Errorf("all pages of 5 items by 2: %d requests, want 3", got)
	}
	items, _, total = e.browse(&secret.BrowseSecretsRequest{Page: scw.Int32Ptr(3), PageSize: scw.Uint32Ptr(2)})
	wantDiff(t, "third page", []string{"root2"}, itemNames(items))
	wantDiff(t, "third page total", uint64(5), total)
}

func TestSDKListTags(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	res, err := e.api.ListTags(&secret.ListTagsRequest{})
	noErr(t, err)
	wantDiff(t, "no tags", &secret.ListTagsResponse{Tags: []string{}}, res)

	e.createSecret(&secret.CreateSecretRequest{Name: "a", Tags: []string{"prod", "db"}})
	e.createSecret(&secret.CreateSecretRequest{Name: "b", Tags: []string{"db", "cache"}})
	e.createSecret(&secret.CreateSecretRequest{Name: "c"})
	res, err = e.api.ListTags(&secret.ListTagsRequest{})
	noErr(t, err)
	wantDiff(t, "tags", &secret.ListTagsResponse{Tags: []string{"cache", "db", "prod"}, TotalCount: 3}, res)

	other := uuid.NewString()
	_, err = e.api.ListTags(&secret.ListTagsRequest{ProjectID: other})
	wantNotFound(t, err, "project", other)
}

func TestSDKAccessByPath(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	s := e.createSecret(&secret.CreateSecretRequest{Name: "db-password", Path: scw.StringPtr("/prod/db")})
	e.addVersion(s.ID, "one")
	e.addVersion(s.ID, "two")
	root := e.createSecret(&secret.CreateSecretRequest{Name: "db-password"})
	e.addVersion(root.ID, "root")

	byPath := func(path, name, rev string) (*secret.AccessSecretVersionResponse, error) {
		return e.api.AccessSecretVersionByPath(&secret.AccessSecretVersionByPathRequest{SecretPath: path, SecretName: name, Revision: rev})
	}
	for _, tc := range []struct {
		path, name, rev string
		id              string
		wantRev         uint32
		want            string
	}{
		{"/prod/db", "db-password", "latest", s.ID, 2, "two"},
		{"/prod/db", "db-password", "1", s.ID, 1, "one"},
		{"/prod/db/", "db-password", "latest_enabled", s.ID, 2, "two"},
		{"/", "db-password", "latest", root.ID, 1, "root"},
		{"", "db-password", "1", root.ID, 1, "root"},
	} {
		a, err := byPath(tc.path, tc.name, tc.rev)
		noErr(t, err)
		wantDiff(t, tc.path+" "+tc.rev, &secret.AccessSecretVersionResponse{SecretID: tc.id, Revision: tc.wantRev, Data: []byte(tc.want), Type: secret.SecretTypeOpaque}, a)
	}

	_, err := e.api.DisableSecretVersion(&secret.DisableSecretVersionRequest{SecretID: s.ID, Revision: "2"})
	noErr(t, err)
	_, err = byPath("/prod/db", "db-password", "latest")
	wantPrecondition(t, err, "")
	a, err := byPath("/prod/db", "db-password", "latest_enabled")
	noErr(t, err)
	if a.Revision != 1 {
		t.Errorf("latest_enabled by path: revision %d", a.Revision)
	}

	_, err = byPath("/prod", "db-password", "latest")
	asError[*scw.ResourceNotFoundError](t, err)
	_, err = byPath("/prod/db", "nope", "latest")
	asError[*scw.ResourceNotFoundError](t, err)
	_, err = byPath("/prod/db", "db-password", "7")
	wantNotFound(t, err, "secret_version", "7")
	_, err = byPath("/prod/../db", "db-password", "latest")
	wantInvalid(t, err, "secret_path")
	_, err = byPath("/prod/db", "", "latest")
	wantInvalid(t, err, "secret_name")
}

func TestSDKAuthentication(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	for name, auth := range map[string]scw.ClientOption{
		"no token":    scw.WithoutAuth(),
		"wrong token": scw.WithAuth(e.node.Creds.AccessKey, uuid.NewString()),
	} {
		t.Run(name, func(t *testing.T) {
			api := secret.NewAPI(e.with(t).client(auth))
			_, err := api.ListSecrets(&secret.ListSecretsRequest{})
			de := asError[*scw.DeniedAuthenticationError](t, err)
			if de.Method != "api_key" {
				t.Errorf("method %q, want api_key", de.Method)
			}
			_, err = api.CreateSecret(&secret.CreateSecretRequest{Name: "intruder"})
			asError[*scw.DeniedAuthenticationError](t, err)
		})
	}
	names, _ := e.names(&secret.ListSecretsRequest{})
	wantDiff(t, "secrets after refused calls", []string{}, names)

	// Regions the node does not serve are unknown; the ones it serves work.
	_, err := e.api.ListSecrets(&secret.ListSecretsRequest{Region: scw.RegionPlWaw})
	wantNotFound(t, err, "region", "pl-waw")
	s, err := e.api.CreateSecret(&secret.CreateSecretRequest{Region: scw.RegionNlAms, Name: "dutch"})
	noErr(t, err)
	if s.Region != scw.RegionNlAms || s.Srn != "srn://secret-manager.scw.eu/regions/nl-ams/secrets/"+s.ID {
		t.Errorf("region %q wantSRN %q", s.Region, s.Srn)
	}

	// The client fetches /metadata once and keeps it: the call succeeded.
	e.rec.reset()
	for range 3 {
		e.getSecret(s.ID)
	}
	if n := len(e.rec.requests("GET", "/metadata")); n > 0 {
		t.Errorf("the client asked /metadata %d more times: it never got an answer", n)
	}
}

func TestSDKUpdateVersionExpiry(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	s := e.createSecret(&secret.CreateSecretRequest{Name: "rotating"})
	e.addVersion(s.ID, "v1")

	expires := e.now().Add(time.Hour)
	e.clock.Advance(time.Second)
	v, err := e.api.UpdateSecretVersion(&secret.UpdateSecretVersionRequest{SecretID: s.ID, Revision: "1",
		EphemeralProperties: &secret.EphemeralProperties{ExpiresAt: &expires}})
	noErr(t, err)
	wantDiff(t, "properties", &secret.EphemeralProperties{ExpiresAt: &expires, ExpiresOnceAccessed: scw.BoolPtr(false),
		Action: secret.EphemeralPolicyActionDisable}, v.EphemeralProperties)
	if !v.UpdatedAt.Equal(e.now()) || v.Description == nil || *v.Description != "" {
		t.Errorf("updated version: updated_at %v description %v", v.UpdatedAt, v.Description)
	}
	wantDiff(t, "stored properties", v.EphemeralProperties, e.getVersion(s.ID, "1").EphemeralProperties)

	e.clock.Advance(time.Hour)
	if n := e.runDue(); n != 1 {
		t.Errorf("RunDue after the new expiry: %d changes, want 1", n)
	}
	_, err = e.access(s.ID, "1")
	wantPrecondition(t, err, "")
}

func TestSDKConcurrentRequests(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	const n = 8

	// Concurrent writers get distinct revisions.
	s := e.createSecret(&secret.CreateSecretRequest{Name: "busy"})
	var wg sync.WaitGroup
	revs := make([]uint32, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			v, err := e.api.CreateSecretVersion(&secret.CreateSecretVersionRequest{SecretID: s.ID, Data: []byte(fmt.Sprint(i))})
			if err == nil {
				revs[i] = v.Revision
			}
			errs[i] = err
		})
	}
	wg.Wait()
	noErr(t, errors.Join(errs...))
	slices.Sort(revs)
	wantDiff(t, "revisions", []uint32{1, 2, 3, 4, 5, 6, 7, 8}, revs)
	if c := e.getSecret(s.ID).VersionCount; c != n {
		t.Errorf("version_count %d, want %d", c, n)
	}

	// A version that expires once accessed is read by exactly one reader.
	once := e.createSecret(&secret.CreateSecretRequest{Name: "once",
		EphemeralPolicy: &secret.EphemeralPolicy{ExpiresOnceAccessed: scw.BoolPtr(true), Action: secret.EphemeralPolicyActionDelete}})
	e.addVersion(once.ID, "only once")
	var got []string
	var mu sync.Mutex
	for range n {
		wg.Go(func() {
			a, err := e.access(once.ID, "1")
			mu.Lock()
			defer mu.Unlock()
			var pe *scw.PreconditionFailedError
			switch {
			case err == nil:
				got = append(got, string(a.Data))
			case !errors.As(err, &pe):
				got = append(got, "error: "+err.Error())
			}
		})
	}
	wg.Wait()
	wantDiff(t, "successful reads", []string{"only once"}, got)
}
