package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/auth"
	"github.com/coffer-dev/coffer/internal/limit"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   string
		ok     bool
	}{
		{[]string{"Bearer abc"}, "abc", true},
		{[]string{"bearer  abc "}, "abc", true},
		{[]string{" BEARER abc"}, "abc", true},
		{[]string{"Basic abc"}, "", false},
		{[]string{"Bearer"}, "", false},
		{[]string{"Bearer   "}, "", false},
		{[]string{"Bearer a", "Bearer b"}, "", false},
		{nil, "", false},
	} {
		hd := http.Header{"Authorization": tc.values}
		if got, ok := auth.BearerToken(hd); got != tc.want || ok != tc.ok {
			t.Errorf("%q: %q %v, want %q %v", tc.values, got, ok, tc.want, tc.ok)
		}
	}
}

// TestAuthenticator checks the middleware against a real engine: schemes
// are tried in order and the first credential found decides, a request
// with none gets ErrNoCredential, a wrong key gets EUNAUTHENTICATED with
// nothing that says why, and the caller reaches the handler and the
// request's audit entry.
func TestAuthenticator(t *testing.T) {
	n := nodetest.Start(t)
	var failed error
	a := auth.New(auth.Config{
		Service: n.Engine,
		Schemes: []auth.Scheme{auth.ClientCertificate, auth.XVaultToken, auth.Bearer},
		Fail: func(w http.ResponseWriter, _ *http.Request, err error) {
			failed = err
			w.WriteHeader(http.StatusUnauthorized)
		},
	})
	var got *coffer.Caller
	h := a.Require(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = coffer.CallerFromContext(r.Context())
	}))
	const wrong = "11111111-1111-4111-8111-111111111111"
	for _, tc := range []struct {
		name    string
		header  http.Header
		ok      bool
		noCreds bool
	}{
		{"vault token", http.Header{"X-Vault-Token": {n.Creds.SecretKey}}, true, false},
		{"bearer", http.Header{"Authorization": {"Bearer " + n.Creds.SecretKey}}, true, false},
		{"none", http.Header{}, false, true},
		{"unknown scheme only", http.Header{"X-Auth-Token": {n.Creds.SecretKey}}, false, true},
		{"wrong key", http.Header{"Authorization": {"Bearer " + wrong}}, false, false},
		// The first scheme found decides: a wrong X-Vault-Token is not
		// saved by a good bearer token.
		{"first decides", http.Header{"X-Vault-Token": {wrong}, "Authorization": {"Bearer " + n.Creds.SecretKey}}, false, false},
	} {
		got, failed = nil, nil
		entry := &coffer.AuditEntry{}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = tc.header
		r = r.WithContext(coffer.NewContextWithAuditEntry(r.Context(), entry))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case tc.ok && (got == nil || got.AccessKey != n.Creds.AccessKey || entry.Caller() != got):
			t.Errorf("%s: caller %+v, entry %+v", tc.name, got, entry.Caller())
		case !tc.ok && (got != nil || w.Code != 401 || entry.Caller() != nil):
			t.Errorf("%s: served %+v (%d)", tc.name, got, w.Code)
		case !tc.ok && errors.Is(failed, auth.ErrNoCredential) != tc.noCreds:
			t.Errorf("%s: error %v", tc.name, failed)
		case !tc.ok && coffer.ErrorCode(failed) != coffer.EUNAUTHENTICATED:
			t.Errorf("%s: error code %s", tc.name, coffer.ErrorCode(failed))
		}
	}
}

// TestNewRefusesIncompleteConfig: a dialect without a scheme or a way to
// refuse would serve anyone, or no one in its format.
func TestNewRefusesIncompleteConfig(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("auth.New accepted a Config without schemes")
		}
	}()
	auth.New(auth.Config{Fail: func(http.ResponseWriter, *http.Request, error) {}})
}

// TestSigned checks the slot of signed requests: a request its verifier
// finds no signature in goes on to the next scheme; one it refuses is
// refused.
func TestSigned(t *testing.T) {
	n := nodetest.Start(t)
	signer, err := n.Engine.AuthenticateSecretKey(t.Context(), n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(_ context.Context, r *http.Request) (*coffer.Caller, error) {
		switch r.Header.Get("X-Signature") {
		case "":
			return nil, auth.ErrNoCredential
		case "good":
			return signer, nil
		}
		return nil, &coffer.Error{Code: coffer.EUNAUTHENTICATED, Message: "authentication is denied"}
	}
	a := auth.New(auth.Config{
		Service: n.Engine,
		Schemes: []auth.Scheme{auth.Signed("test", verify), auth.Bearer},
		Fail:    func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusUnauthorized) },
	})
	for _, tc := range []struct {
		sig, bearer string
		want        int
	}{{"good", "", 200}, {"bad", n.Creds.SecretKey, 401}, {"", n.Creds.SecretKey, 200}, {"", "", 401}} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.sig != "" {
			r.Header.Set("X-Signature", tc.sig)
		}
		if tc.bearer != "" {
			r.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		w := httptest.NewRecorder()
		a.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("signature %q, bearer %v: %d, want %d", tc.sig, tc.bearer != "", w.Code, tc.want)
		}
	}
}

// TestRequireLimits checks the Limiter's place in Require: a request
// without a credential does not count as a failure, a refused one does,
// and once the address is throttled a good key is refused with an
// ETOOMANY error and Retry-After before it is checked.
func TestRequireLimits(t *testing.T) {
	n := nodetest.Start(t)
	var failed error
	a := auth.New(auth.Config{
		Service: n.Engine,
		Schemes: []auth.Scheme{auth.XVaultToken},
		Fail: func(w http.ResponseWriter, _ *http.Request, err error) {
			failed = err
			w.WriteHeader(http.StatusUnauthorized)
		},
		Limiter: limit.New(limit.Config{AuthFailures: 1}),
	})
	served := 0
	h := a.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	send := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if token != "" {
			r.Header.Set("X-Vault-Token", token)
		}
		w := httptest.NewRecorder()
		failed = nil
		h.ServeHTTP(w, r)
		return w
	}
	for range 3 {
		send("")
		if !errors.Is(failed, auth.ErrNoCredential) {
			t.Fatalf("no credential: %v", failed)
		}
	}
	send(n.Creds.SecretKey)
	if failed != nil || served != 1 {
		t.Fatalf("requests without a credential throttled the address: %v", failed)
	}
	send("11111111-1111-4111-8111-111111111111")
	if coffer.ErrorCode(failed) != coffer.EUNAUTHENTICATED {
		t.Fatalf("wrong key: %v", failed)
	}
	w := send(n.Creds.SecretKey)
	if coffer.ErrorCode(failed) != coffer.ETOOMANY || w.Header().Get("Retry-After") != "60" || served != 1 {
		t.Errorf("after a refused key: %v, Retry-After %q, served %d; want ETOOMANY, 60, 1", failed, w.Header().Get("Retry-After"), served)
	}
}
