// Command rotation-webhook is an example rotation function for coffer's
// NAVER Cloud Secret Manager API: the webhook a trigger calls when a
// rotation job starts. It verifies the call's signature, answers at once,
// then drives the job through NAVER's signed rotation API: start (read the
// chain), pending (coffer writes new random values for the rotation
// targets), apply the new value to the system that uses it, then complete,
// or fail if anything went wrong.
//
// It depends on the standard library only: copy it and replace apply with
// what changes the password in your database, API or service.
//
// Configuration, from the environment:
//
//	ROTATION_LISTEN        address to listen on (default 127.0.0.1:8080)
//	ROTATION_SIGNING_KEY   the trigger's signing secret (coffer trigger create)
//	NCLOUD_ENDPOINT        coffer's base URL, e.g. https://coffer.example:8200
//	NCLOUD_ACCESS_KEY      an API key's access key with write access to the secrets
//	NCLOUD_SECRET_KEY      its secret key
//
// See docs/rotation.md.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"time"
)

// Delivery is the body of a trigger's call.
type Delivery struct {
	SecretID string `json:"secretId"`
	JobToken string `json:"jobToken"`
	// Action is what opened the job: execute, retry or auto.
	Action string `json:"action"`
}

// VerifySignature checks a call's X-Coffer-Timestamp and
// X-Coffer-Signature headers: "v1=" and the hex HMAC-SHA256, keyed with the
// signing secret, of the timestamp, ".", and the raw body. A timestamp more
// than tolerance away from now is refused, so that a recorded call cannot
// be replayed later.
func VerifySignature(key []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("stale timestamp")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return errors.New("bad signature")
	}
	return nil
}

// Client calls NAVER's API with signature v2.
type Client struct {
	Endpoint, AccessKey, SecretKey string
	HTTP                           *http.Client
}

// Do sends a signed request and decodes the envelope's data into out (when
// not nil).
func (c *Client) Do(ctx context.Context, method, uri string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Endpoint+uri, body)
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(c.SecretKey))
	mac.Write([]byte(method + " " + uri + "\n" + ts + "\n" + c.AccessKey))
	req.Header.Set("x-ncp-apigw-timestamp", ts)
	req.Header.Set("x-ncp-iam-access-key", c.AccessKey)
	req.Header.Set("x-ncp-apigw-signature-v2", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, uri, res.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Data, out)
}

// Receiver is the webhook: it verifies calls and runs each job in a
// goroutine it owns (Close waits for them).
type Receiver struct {
	Key    []byte
	NAVER  *Client
	Apply  func(ctx context.Context, secretID, pending string) error
	Logger *log.Logger

	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// NewReceiver returns a Receiver; apply changes the credential in the system
// that uses it.
func NewReceiver(key []byte, c *Client, apply func(ctx context.Context, secretID, pending string) error) *Receiver {
	ctx, cancel := context.WithCancel(context.Background())
	return &Receiver{Key: key, NAVER: c, Apply: apply, Logger: log.Default(), ctx: ctx, cancel: cancel}
}

// ServeHTTP answers a trigger's call. It answers 202 before rotating, so
// that the call does not time out while the rotation runs: coffer retries
// a call that failed or timed out with the same token, so a receiver that
// rotated synchronously could be asked twice.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	if err := VerifySignature(rc.Key, r.Header.Get("X-Coffer-Timestamp"), r.Header.Get("X-Coffer-Signature"), body, time.Now(), 5*time.Minute); err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var d Delivery
	if err := json.Unmarshal(body, &d); err != nil || d.SecretID == "" || d.JobToken == "" {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	rc.wg.Add(1)
	go func() {
		defer rc.wg.Done()
		if err := rc.Rotate(rc.ctx, d); err != nil {
			rc.Logger.Printf("rotation of secret %s failed: %v", d.SecretID, err)
		}
	}()
	w.WriteHeader(http.StatusAccepted)
}

// Rotate drives one job: start, pending, apply, complete (or fail).
func (rc *Receiver) Rotate(ctx context.Context, d Delivery) error {
	job := "/action/v1/secrets/" + d.SecretID + "/jobs/" + d.JobToken
	if err := rc.NAVER.Do(ctx, http.MethodPost, job+"/start", nil, nil); err != nil {
		// Not ours to fail: another delivery of the same job may be
		// running it, or it was cancelled.
		return fmt.Errorf("start: %w", err)
	}
	var p struct {
		Pending string `json:"pending"`
	}
	err := rc.NAVER.Do(ctx, http.MethodPost, job+"/pending", nil, &p)
	if err == nil {
		err = rc.Apply(ctx, d.SecretID, p.Pending)
	}
	if err != nil {
		if ferr := rc.NAVER.Do(context.WithoutCancel(ctx), http.MethodPost, job+"/fail", nil, nil); ferr != nil {
			return errors.Join(err, fmt.Errorf("fail: %w", ferr))
		}
		return err
	}
	return rc.NAVER.Do(ctx, http.MethodPost, job+"/complete", nil, nil)
}

// Close stops the rotations under way and waits for them.
func (rc *Receiver) Close() {
	rc.cancel()
	rc.wg.Wait()
}

func main() { os.Exit(run()) }

func run() int {
	listen := os.Getenv("ROTATION_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	key := os.Getenv("ROTATION_SIGNING_KEY")
	if key == "" || os.Getenv("NCLOUD_ENDPOINT") == "" {
		log.Print("ROTATION_SIGNING_KEY and NCLOUD_ENDPOINT are required")
		return 2
	}
	c := &Client{Endpoint: os.Getenv("NCLOUD_ENDPOINT"), AccessKey: os.Getenv("NCLOUD_ACCESS_KEY"),
		SecretKey: os.Getenv("NCLOUD_SECRET_KEY"), HTTP: &http.Client{Timeout: 30 * time.Second}}
	rc := NewReceiver([]byte(key), c, func(ctx context.Context, secretID, pending string) error {
		// Replace this with the change of the credential in the system
		// that uses it (ALTER USER ... PASSWORD, an API call, ...).
		log.Printf("secret %s: the new value would be applied here", secretID)
		return nil
	})
	srv := &http.Server{Addr: listen, Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("rotation webhook listening on %s", listen)
	err := srv.ListenAndServe()
	stop()
	<-done
	rc.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
		return 1
	}
	return 0
}
