package vaultkv_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/vaultkv"
)

// TestListPages lists a folder whose keys sort differently as names and
// as Vault keys ("a-x/" before "a/", "a" before "a-x"), on an engine that
// answers 3 keys at a time: whole, and by pages of every size with after
// set to the last key of the page before, each key comes exactly once, in
// order, with exclude_deleted and detailed-metadata too.
func TestListPages(t *testing.T) {
	limits := engine.DefaultLimits()
	limits.MaxPageSize = 3
	e := newEnv(t, nodetest.WithLimits(limits))
	kv := e.vault.KVv2("secret")
	ctx := context.Background()
	paths := []string{"f/a", "f/a-x", "f/a.b", "f/a0", "f/-y", "f/b",
		"f/a/x", "f/a-x/y", "f/a.b/z/w", "f/a0/q", "f/-y/q", "f/.z/q", "f/c/d/e", "g/other"}
	for _, p := range paths {
		if _, err := kv.Put(ctx, p, map[string]any{"k": p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Delete(ctx, "f/a0"); err != nil { // its current version is deleted
		t.Fatal(err)
	}
	all := []string{"-y", "-y/", ".z/", "a", "a-x", "a-x/", "a.b", "a.b/", "a/", "a0", "a0/", "b", "c/"}
	if !slices.IsSorted(all) {
		t.Fatal("the expected keys are not sorted")
	}
	live := slices.DeleteFunc(slices.Clone(all), func(k string) bool { return k == "a0" })

	list := func(path string, q url.Values) []string {
		t.Helper()
		q.Set("list", "true")
		var data struct {
			Keys    []string
			KeyInfo map[string]struct {
				CurrentVersion int `json:"current_version"`
			} `json:"key_info"`
		}
		dataOf(t, e.ok(200, "GET", path+"?"+q.Encode(), ""), &data)
		if path == "/v1/secret/detailed-metadata/f" {
			for _, k := range data.Keys {
				info, ok := data.KeyInfo[k]
				if isFolder := k[len(k)-1] == '/'; isFolder == ok || !isFolder && info.CurrentVersion != 1 {
					t.Errorf("%s: key_info of %q: %+v, %v", path, k, info, ok)
				}
			}
		}
		return data.Keys
	}
	for _, tc := range []struct {
		path, extra string
		want        []string
	}{
		{"/v1/secret/metadata/f", "", all},
		{"/v1/secret/metadata/f", "exclude_deleted", live},
		{"/v1/secret/detailed-metadata/f", "", all},
	} {
		q := url.Values{}
		if tc.extra != "" {
			q.Set(tc.extra, "true")
		}
		if got := list(tc.path, q); !cmp.Equal(got, tc.want) {
			t.Errorf("%s %s: %q, want %q", tc.path, tc.extra, got, tc.want)
		}
		for limit := 1; limit <= len(tc.want)+1; limit++ {
			var got []string
			for after := ""; ; {
				q.Set("limit", strconv.Itoa(limit))
				q.Set("after", after)
				r := e.do("GET", tc.path+"?list=true&"+q.Encode(), "")
				if r.Status == http.StatusNotFound {
					break
				}
				var data struct{ Keys []string }
				dataOf(t, r.Body, &data)
				if len(data.Keys) == 0 || len(data.Keys) > limit {
					t.Fatalf("%s %s limit %d after %q: %q", tc.path, tc.extra, limit, after, data.Keys)
				}
				got = append(got, data.Keys...)
				after = data.Keys[len(data.Keys)-1]
			}
			if !cmp.Equal(got, tc.want) {
				t.Errorf("%s %s by pages of %d: %q, want %q", tc.path, tc.extra, limit, got, tc.want)
			}
		}
	}
	// after need not be a key.
	for after, want := range map[string][]string{"a/zz": {"a0", "a0/", "b"}, "a-": {"a-x", "a-x/", "a.b"}, "zz": nil} {
		r := e.do("GET", "/v1/secret/metadata/f?list=true&limit=3&after="+url.QueryEscape(after), "")
		var data struct{ Keys []string }
		if r.Status == http.StatusOK {
			dataOf(t, r.Body, &data)
		}
		if !cmp.Equal(data.Keys, want) {
			t.Errorf("after %q: %d %q, want %q", after, r.Status, data.Keys, want)
		}
	}
}

// leaving is the engine of a client that leaves after the first page of
// a listing.
type leaving struct {
	vaultkv.Service
	cancel context.CancelFunc
	pages  int
}

func (l *leaving) ListKeys(ctx context.Context, f coffer.KeyFilter) ([]coffer.KeyEntry, error) {
	l.pages++
	defer l.cancel()
	return l.Service.ListKeys(ctx, f)
}

func (l *leaving) ListSecrets(ctx context.Context, f coffer.SecretFilter) ([]*coffer.Secret, int, error) {
	l.pages++
	defer l.cancel()
	return l.Service.ListSecrets(ctx, f)
}

// TestListStopsWhenTheClientLeaves checks that a listing whose client has
// gone stops at the page it is at and does not answer.
func TestListStopsWhenTheClientLeaves(t *testing.T) {
	limits := engine.DefaultLimits()
	limits.MaxPageSize = 2
	e := newEnv(t, nodetest.WithLimits(limits))
	for i := range 10 {
		if _, err := e.n.Engine.CreateSecret(e.ctx, coffer.SecretCreate{ProjectID: e.n.Creds.ProjectID, Path: "/f", Name: "s" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{"/secret/metadata/f?list=true", "/secret/detailed-metadata/f?list=true", "/secret/metadata/f?scan=true"} {
		ctx, cancel := context.WithCancel(context.Background())
		l := &leaving{Service: e.n.Engine, cancel: cancel}
		h := vaultkv.New(vaultkv.Config{Service: l})
		r := httptest.NewRequestWithContext(ctx, "GET", path, nil)
		r.Header.Set("X-Vault-Token", e.n.Creds.SecretKey)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusOK || l.pages != 1 {
			t.Errorf("%s with its client gone after the first page: %d after %d pages, want no answer after 1", path, w.Code, l.pages)
		}
	}
}
