package cluster_test

import (
	"net/http"
	"testing"

	"github.com/coffer-dev/coffer"
)

// TestSessionsAcrossNodes checks that a web console session opened on one
// node is one on every node, and that a logout on another ends it
// everywhere: sessions are rows of the shared store.
func TestSessionsAcrossNodes(t *testing.T) {
	c := startCluster(t, 2)
	s, err := c.nodes[0].Engine.CreateSession(c.ctxs[0], "")
	if err != nil {
		t.Fatal(err)
	}
	page := func(i int) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, c.nodes[i].URL+"/ui/", nil)
		req.AddCookie(&http.Cookie{Name: "coffer_session", Value: s.Token})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range c.nodes {
		if got := page(i); got != http.StatusOK {
			t.Errorf("node %d: the console with a session opened on node 0: %d", i, got)
		}
	}
	caller, err := c.nodes[1].Engine.AuthenticateSession(c.ctxs[1], s.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[1].Engine.EndSession(coffer.NewContextWithCaller(c.ctxs[1], caller), s.Token); err != nil {
		t.Fatal(err)
	}
	for i := range c.nodes {
		if got := page(i); got != http.StatusUnauthorized {
			t.Errorf("node %d: the console with a session ended on node 1: %d", i, got)
		}
	}
}
