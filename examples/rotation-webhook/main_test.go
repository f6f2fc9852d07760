package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// The same fixed vector as internal/webhook's tests.
func TestVerifySignatureVector(t *testing.T) {
	const body = `{"secretId":"s","jobToken":"t","action":"execute"}`
	sig := "v1=7c8353878444558a7468da480edbd7b4ac0641021cdba2aadb6dfaf73185b6c8"
	now := time.Unix(1700000000, 0)
	if err := VerifySignature([]byte("whsec-test"), "1700000000", sig, []byte(body), now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if VerifySignature([]byte("whsec-test"), "1700000000", sig, []byte(body+" "), now, time.Minute) == nil {
		t.Error("another body verified")
	}
	if VerifySignature([]byte("whsec-test"), "1700000000", sig, []byte(body), now.Add(2*time.Minute), time.Minute) == nil {
		t.Error("a stale call verified")
	}
}

// TestReceiver runs the example against a real coffer node: a rotation
// that applies, one whose apply fails, and a call with a bad signature.
func TestReceiver(t *testing.T) {
	n := nodetest.Start(t, nodetest.WithWebhooks(5*time.Second, 2, 10*time.Millisecond))
	c := &Client{Endpoint: n.URL, AccessKey: n.Creds.AccessKey, SecretKey: n.Creds.SecretKey, HTTP: &http.Client{Timeout: 10 * time.Second}}
	ctx := t.Context()
	applied := make(chan string, 4)
	var fail atomic.Bool
	var rc *Receiver
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rc.ServeHTTP(w, r) }))
	defer srv.Close()

	caller, err := n.Engine.AuthenticateSecretKey(ctx, n.Creds.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := n.Engine.CreateTrigger(coffer.NewContextWithCaller(ctx, caller),
		coffer.TriggerCreate{ProjectID: n.Creds.ProjectID, Name: "example", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	rc = NewReceiver([]byte(tr.SigningSecret), c, func(_ context.Context, _, pending string) error {
		applied <- pending
		if fail.Load() {
			return errors.New("the database refused the new password")
		}
		return nil
	})
	rc.Logger = log.New(io.Discard, "", 0)
	defer rc.Close()

	var s struct {
		SecretID string `json:"secretId"`
	}
	if err := c.Do(ctx, http.MethodPost, "/api/v1/secrets", map[string]any{
		"secretName": "dbpass", "secretType": "BASIC", "autoRotationYN": "N", "protectionKeyType": "DEFAULT",
		"secretValue": map[string]any{"value": `{"user":"app","password":"first"}`, "rotationTargets": []string{"password"}},
	}, &s); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, http.MethodPut, "/api/v1/secrets/"+s.SecretID+"/triggers", map[string]string{"triggerId": tr.ID}, nil); err != nil {
		t.Fatal(err)
	}
	type chain struct {
		DecryptedSecretChain struct{ Previous, Active, Pending *string } `json:"decryptedSecretChain"`
	}
	settle := func() chain {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var d struct {
				SecretStatus string `json:"secretStatus"`
			}
			if err := c.Do(ctx, http.MethodGet, "/api/v1/secrets/"+s.SecretID, nil, &d); err != nil {
				t.Fatal(err)
			}
			if d.SecretStatus == "ENABLE" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("still rotating")
			}
			time.Sleep(5 * time.Millisecond)
		}
		var ch chain
		if err := c.Do(ctx, http.MethodGet, "/api/v1/secrets/"+s.SecretID+"/values", nil, &ch); err != nil {
			t.Fatal(err)
		}
		return ch
	}

	if err := c.Do(ctx, http.MethodPost, "/api/v1/secrets/"+s.SecretID+"/rotation", nil, nil); err != nil {
		t.Fatal(err)
	}
	pending := <-applied
	ch := settle()
	if *ch.DecryptedSecretChain.Active != pending || *ch.DecryptedSecretChain.Previous != `{"user":"app","password":"first"}` {
		t.Errorf("after a rotation: active %s, previous %s; applied %s", *ch.DecryptedSecretChain.Active, *ch.DecryptedSecretChain.Previous, pending)
	}

	fail.Store(true)
	if err := c.Do(ctx, http.MethodPost, "/api/v1/secrets/"+s.SecretID+"/rotation", nil, nil); err != nil {
		t.Fatal(err)
	}
	<-applied
	if ch2 := settle(); *ch2.DecryptedSecretChain.Active != pending || ch2.DecryptedSecretChain.Pending != nil {
		t.Errorf("after a failed rotation: active %s", *ch2.DecryptedSecretChain.Active)
	}

	res, err := http.Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unsigned call: %d", res.StatusCode)
	}
}
