package engine

import (
	"testing"

	"github.com/coffer-dev/coffer"
)

func TestPathUnder(t *testing.T) {
	for _, tc := range []struct {
		path, prefix string
		want         bool
	}{
		{"/", "/", true},
		{"/a", "", true},
		{"/a", "/a", true},
		{"/a/b", "/a", true},
		{"/ab", "/a", false},
		{"/", "/a", false},
		{"/a.b", "/a", false},
	} {
		if got := pathUnder(tc.path, tc.prefix); got != tc.want {
			t.Errorf("pathUnder(%q, %q) = %v", tc.path, tc.prefix, got)
		}
	}
}

func TestDecide(t *testing.T) {
	rules := []*coffer.Policy{
		{ProjectID: "p1", PathPrefix: "/", PermissionSets: []coffer.PermissionSet{coffer.SecretManagerReadOnly}},
		{ProjectID: "p1", PathPrefix: "/w", PermissionSets: []coffer.PermissionSet{coffer.SecretManagerSecretCreate}},
		{ProjectID: "", PathPrefix: "/shared", PermissionSets: []coffer.PermissionSet{coffer.SecretManagerSecretAccess}},
	}
	for _, tc := range []struct {
		action, project, path string
		want                  string
	}{
		{actionRead, "p1", "/x", ""},
		{actionAccess, "p1", "/x", coffer.EFORBIDDEN},
		{actionWrite, "p1", "/w/x", ""},
		{actionWrite, "p1", "/x", coffer.EFORBIDDEN},
		{actionLocate, "p1", "/anything", ""},
		{actionAccess, "p2", "/shared/db", ""},
		{actionRead, "p2", "/shared/db", coffer.EFORBIDDEN},
		{actionAccess, "p2", "/other", coffer.ENOTFOUND},
		{actionRead, "p3", "/", coffer.ENOTFOUND},
		{actionKeys, "p1", "/", coffer.EFORBIDDEN},
	} {
		if got := coffer.ErrorCode(decide(rules, tc.action, tc.project, tc.path)); got != tc.want {
			t.Errorf("decide(%s, %s, %s) = %q, want %q", tc.action, tc.project, tc.path, got, tc.want)
		}
	}
}
