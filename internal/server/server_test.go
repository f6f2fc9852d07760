package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/a": true, "/a/b": true, "/v1/secret/metadata/": true, "/a/b.c": true,
		"": false, "a": false, "//": false, "/a//b": false, "/a/./b": false, "/a/..": false,
		"/a/../b": false, "/.": false, "/..": false, "/a/b//": false,
	} {
		if got := cleanPath(p); got != want {
			t.Errorf("cleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// panicking is a dialect, mounted at /p, whose route /boom panics with a
// value that must not reach the client or the log.
type panicking struct{ *http.ServeMux }

const panicSecret = "s3cr3t-value-in-a-panic"

func newPanicking() panicking {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic(panicSecret) })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	return panicking{mux}
}

func (panicking) WriteBadPath(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusBadRequest)
}

func (panicking) WriteInternalError(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`{"message":"internal error"}`))
}

func TestMiddleware(t *testing.T) {
	var logs bytes.Buffer
	d := newPanicking()
	s := mustBuild(t, Config{NoAudit: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		Mount{Name: "p", Prefix: "/p", Handler: d, Errors: d})
	serve := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://coffer"+path, nil))
		return rec
	}

	rec := serve("/p/ok")
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != 200 || len(id) != 36 {
		t.Errorf("ok: %d, request id %q", rec.Code, id)
	}
	if other := serve("/p/ok").Header().Get("X-Request-Id"); other == id {
		t.Error("two requests got the same id")
	}

	rec = serve("/p/boom")
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("panic: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if strings.Contains(rec.Body.String(), panicSecret) || strings.Contains(logs.String(), panicSecret) {
		t.Error("the panic's value leaked into the response or the log")
	}
	if !strings.Contains(logs.String(), "panic serving request") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}

	// A path that is not clean is refused, not redirected; outside every
	// dialect the answer is plain JSON.
	rec = serve("/x/../ok")
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
		t.Errorf("unclean path: %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if got := serve("/healthz"); got.Code != 200 || !strings.Contains(got.Body.String(), `"ok"`) {
		t.Errorf("healthz: %d %s", got.Code, got.Body)
	}
}

// TestAccessLog checks that the line per request is a debug one, and that
// it never holds the query string.
func TestAccessLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var logs bytes.Buffer
		d := newPanicking()
		s := mustBuild(t, Config{NoAudit: true, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))},
			Mount{Name: "p", Prefix: "/p", Handler: d, Errors: d})
		s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://coffer/p/ok?token=s3cr3t", nil))
		lines := strings.Count(logs.String(), "msg=request")
		if want := map[slog.Level]int{slog.LevelInfo: 0, slog.LevelDebug: 1}[level]; lines != want {
			t.Errorf("level %s: %d request lines, want %d: %s", level, lines, want, logs.String())
		}
		if strings.Contains(logs.String(), "s3cr3t") {
			t.Errorf("the query string was logged: %s", logs.String())
		}
	}
}
