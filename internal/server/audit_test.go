package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
)

// valueDialect serves a secret value under /{secret_id}, mounted at /v,
// and answers faults in its own format. The engine would note the secret it
// resolves; the handler does it here.
type valueDialect struct{ *http.ServeMux }

const auditedValue = "s3cr3t-value-held-until-audited"

func newValueDialect() valueDialect {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{secret_id}", func(w http.ResponseWriter, r *http.Request) {
		coffer.AuditEntryFromContext(r.Context()).Note(coffer.AuditFacts{SecretID: r.PathValue("secret_id")})
		w.Header().Set("X-Handler", "yes")
		_, _ = w.Write([]byte(auditedValue))
	})
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic(auditedValue) })
	return valueDialect{mux}
}

func (valueDialect) WriteBadPath(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"dialect_error":"bad path"}`))
}

func (valueDialect) WriteInternalError(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`{"dialect_error":"internal"}`))
}

// mustBuild returns a server of mounts.
func mustBuild(t *testing.T, cfg Config, mounts ...Mount) *Server {
	t.Helper()
	s, err := build(cfg, mounts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuditHoldsTheResponse checks that nothing of a response reaches the
// client before its record is written, and that a failed write replaces the
// response with the dialect's 500.
func TestAuditHoldsTheResponse(t *testing.T) {
	written := make(chan *coffer.AuditRecord, 1)
	release := make(chan error)
	d := newValueDialect()
	s := mustBuild(t, Config{Audit: func(_ context.Context, rec *coffer.AuditRecord) error {
		written <- rec
		return <-release
	}}, Mount{Name: "scaleway", Prefix: "/v", Handler: d, Errors: d})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	type result struct {
		status int
		body   string
		header http.Header
	}
	get := func(path string) <-chan result {
		out := make(chan result, 1)
		go func() {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				out <- result{}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			out <- result{resp.StatusCode, string(b), resp.Header}
		}()
		return out
	}

	// Success: the response waits for the record.
	done := get("/v/abc")
	rec := <-written
	if rec.Dialect != "scaleway" || rec.Action != "GET /v/{secret_id}" || rec.SecretID != "abc" || rec.Status != 200 || rec.Outcome != coffer.AuditOK {
		t.Fatalf("record %+v", rec)
	}
	select {
	case r := <-done:
		t.Fatalf("the response was sent before its record was written: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
	release <- nil
	if r := <-done; r.status != 200 || r.body != auditedValue || r.header.Get("X-Handler") != "yes" || r.header.Get("X-Request-Id") != rec.RequestID {
		t.Fatalf("after the record: %+v", r)
	}

	// Failure: the dialect's 500, without the value or the handler's headers.
	done = get("/v/abc")
	<-written
	release <- errors.New("disk full")
	if r := <-done; r.status != 500 || r.body != `{"dialect_error":"internal"}` || r.header.Get("X-Handler") != "" || r.header.Get("X-Request-Id") == "" {
		t.Fatalf("after a failed record: %+v", r)
	}

	// A panic is recorded as a 500 and answered in the dialect's format.
	done = get("/v/boom")
	if rec := <-written; rec.Status != 500 || rec.Outcome != coffer.AuditError {
		t.Fatalf("record of a panic: %+v", rec)
	}
	release <- nil
	if r := <-done; r.status != 500 || strings.Contains(r.body, auditedValue) {
		t.Fatalf("after a panic: %+v", r)
	}
}

// TestBufferedResponseZeroes checks that a held body is overwritten once
// the response is done with, before its buffer can serve another request,
// and that a reset drops the handler's headers but the request id.
func TestBufferedResponseZeroes(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("X-Request-Id", "req-1")
	b := newBufferedResponse(w)
	b.Header().Set("X-Handler", "yes")
	_, _ = b.Write([]byte(auditedValue))
	held := b.body.Bytes()
	held = held[:cap(held)]
	b.reset()
	if w.Header().Get("X-Handler") != "" || w.Header().Get("X-Request-Id") != "req-1" {
		t.Errorf("headers after reset: %v", w.Header())
	}
	_, _ = b.Write([]byte(auditedValue))
	b.send()
	if w.Body.String() != auditedValue || w.Code != http.StatusOK {
		t.Fatalf("sent %d %q", w.Code, w.Body)
	}
	b.release()
	for i, c := range held {
		if c != 0 {
			t.Fatalf("byte %d of the released buffer is %q, want 0", i, c)
		}
	}
	if b.body != nil {
		t.Error("the response still holds its buffer after release")
	}
}

// TestAuditBeforeStream checks that a handler that streams its response
// has its record written before the first byte leaves, once, and that the
// bytes then reach the client as they are written; and that when the
// record cannot be written, nothing is streamed.
func TestAuditBeforeStream(t *testing.T) {
	var records []*coffer.AuditRecord
	fail := false
	next := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dump", func(w http.ResponseWriter, r *http.Request) {
		if err := w.(Streamer).Stream(); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("first;"))
		<-next
		_, _ = w.Write([]byte("second"))
	})
	d := valueDialect{mux}
	s := mustBuild(t, Config{Audit: func(_ context.Context, rec *coffer.AuditRecord) error {
		records = append(records, rec)
		if fail {
			return errors.New("disk full")
		}
		return nil
	}}, Mount{Name: "admin", Prefix: "/s", Handler: d, Errors: d})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/s/dump")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The handler is still under way: what it wrote has arrived, after
	// its record.
	first := make([]byte, len("first;"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first;" {
		t.Fatalf("first part: %q %v", first, err)
	}
	if len(records) != 1 || records[0].Status != 200 || records[0].Action != "GET /s/dump" {
		t.Fatalf("records before the stream ended: %+v", records)
	}
	close(next)
	rest, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(rest) != "second" {
		t.Fatalf("stream: %d %q", resp.StatusCode, rest)
	}
	if len(records) != 1 {
		t.Fatalf("%d records of one streamed request", len(records))
	}

	// The record cannot be written: the dialect's 500, nothing streamed.
	fail = true
	resp, err = http.Get(srv.URL + "/s/dump")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(b), "first") {
		t.Fatalf("a stream whose record failed: %d %q", resp.StatusCode, b)
	}
}
