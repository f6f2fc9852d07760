package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
)

// echo is a dialect that answers with its name, the path it got below its
// mount (escaped), the route its mux matched and the okmsId path value.
type echo struct {
	name string
	*http.ServeMux
}

func newEcho(name string) echo {
	e := echo{name: name, ServeMux: http.NewServeMux()}
	e.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, e.name+" "+r.URL.EscapedPath()+" "+r.PathValue("okmsId"))
	})
	e.HandleFunc("GET /secret/{path...}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, e.name+" "+r.URL.EscapedPath()+" "+r.PathValue("okmsId")+" path="+r.PathValue("path"))
	})
	return e
}

func (e echo) WriteBadPath(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, e.name+" bad path")
}

func (e echo) WriteInternalError(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusInternalServerError)
}

func echoMount(name, prefix string) Mount {
	e := newEcho(name)
	return Mount{Name: name, Prefix: prefix, Handler: e, Errors: e}
}

// TestMountsOverlap mounts NAVER's /api/v1 beside OKMS's /api/{okmsId}/v2
// and /api/{okmsId}/v1, which http.ServeMux refuses to hold together (it
// panics at registration): each request reaches exactly one of them, and
// is audited under its name with the route its mux matched.
func TestMountsOverlap(t *testing.T) {
	var recs []*coffer.AuditRecord
	s := mustBuild(t, Config{Audit: func(_ context.Context, rec *coffer.AuditRecord) error {
		recs = append(recs, rec)
		return nil
	}},
		echoMount("okms", "/api/{okmsId}/v2"),
		echoMount("naver", "/api/v1"),
		echoMount("okms-vault", "/api/{okmsId}/v1"),
		echoMount("vaultkv", "/v1"),
	)
	for _, tc := range []struct{ path, want, action string }{
		{"/api/v1/secrets", "naver /secrets ", "GET /api/v1"},
		{"/api/v1", "naver / ", "GET /api/v1"},
		{"/api/v1/v2/secret/x", "naver /v2/secret/x ", "GET /api/v1"},
		{"/api/v1/v1/secret/x", "naver /v1/secret/x ", "GET /api/v1"},
		{"/api/0b5e/v2/secret/a%2Fb", "okms /secret/a%2Fb 0b5e path=a/b", "GET /api/{okmsId}/v2/secret/{path...}"},
		{"/api/0b5e/v2", "okms / 0b5e", "GET /api/{okmsId}/v2"},
		{"/api/0b5e/v1/secret/data/a", "okms-vault /secret/data/a 0b5e path=data/a", "GET /api/{okmsId}/v1/secret/{path...}"},
		{"/v1/secret/a", "vaultkv /secret/a  path=a", "GET /v1/secret/{path...}"},
		{"/v1/", "vaultkv / ", "GET /v1"},
	} {
		recs = nil
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "http://coffer"+tc.path, nil))
		if got := w.Body.String(); w.Code != 200 || got != tc.want {
			t.Errorf("%s: %d %q, want %q", tc.path, w.Code, got, tc.want)
		}
		if len(recs) != 1 || recs[0].Action != tc.action || recs[0].Dialect != strings.Fields(tc.want)[0] {
			t.Errorf("%s: records %+v, want one of %s", tc.path, recs, tc.action)
		}
	}
	// Outside every mount: not a dialect's, not audited.
	recs = nil
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "http://coffer/api", nil))
	if w.Code != 404 || len(recs) != 0 {
		t.Errorf("/api: %d, %d records", w.Code, len(recs))
	}
	// An unclean path under a mount is refused in its format, audited.
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "http://coffer/api/v1/a/../b", nil))
	if w.Code != 400 || w.Body.String() != "naver bad path" || len(recs) != 1 || recs[0].Action != "GET (not clean)" {
		t.Errorf("unclean: %d %q, records %+v", w.Code, w.Body, recs)
	}
}

// TestMountRefused checks that a mount that could not be answered or
// audited cannot be built.
func TestMountRefused(t *testing.T) {
	audited := Config{Audit: func(context.Context, *coffer.AuditRecord) error { return nil }}
	e := newEcho("e")
	for name, tc := range map[string]struct {
		cfg    Config
		mounts []Mount
	}{
		"no audit":        {Config{}, []Mount{echoMount("a", "/a")}},
		"no name":         {audited, []Mount{{Prefix: "/a", Handler: e, Errors: e}}},
		"no handler":      {audited, []Mount{{Name: "a", Prefix: "/a", Errors: e}}},
		"no error writer": {audited, []Mount{{Name: "a", Prefix: "/a", Handler: e}}},
		"relative":        {audited, []Mount{echoMount("a", "a")}},
		"trailing slash":  {audited, []Mount{echoMount("a", "/a/")}},
		"unclean":         {audited, []Mount{echoMount("a", "/a/../b")}},
		"bad wildcard":    {audited, []Mount{echoMount("a", "/a/{x")}},
		"same prefix":     {audited, []Mount{echoMount("a", "/a/{x}"), echoMount("b", "/a/{y}")}},
	} {
		if _, err := build(tc.cfg, tc.mounts); err == nil {
			t.Errorf("%s: built", name)
		}
	}
	if _, err := build(Config{NoAudit: true}, []Mount{echoMount("a", "/a")}); err != nil {
		t.Errorf("a server that says it has no trail: %v", err)
	}
}
