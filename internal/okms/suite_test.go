package okms_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

// TestOKMSCLISuite replays OVH's acceptance suite for `okms secret`
// (shared/conformance/okms-cli-suite/secrets.yaml, 19 cases run in order on
// one secret) as the HTTP calls the CLI makes for each command (spec §1.1,
// §6.2), and checks the suite's assertions on the answers: the CLI prints
// the decoded answer as JSON, so an assertion on its output is one on the
// answer's JSON.
func TestOKMSCLISuite(t *testing.T) {
	_, c, clock := start(t)
	const name = "qwertyui" // the suite's {{.random-string.content}}
	p := "/secret/" + name
	wholeSeconds := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)

	// check applies venom assertions to a JSON answer: each key is a
	// dotted path; "!empty" means ShouldNotBeEmpty / ShouldNotEqual "",
	// "empty" ShouldBeEmpty, anything else ShouldEqual.
	check := func(step string, body []byte, want map[string]string) {
		t.Helper()
		m := object(t, body)
		for path, w := range want {
			got := field(m, path)
			switch w {
			case "!empty":
				if str(got) == "" {
					t.Errorf("%s: %s is empty: %s", step, path, body)
				}
			case "empty":
				if got != nil && str(got) != "" && str(got) != "{}" {
					t.Errorf("%s: %s = %s, want empty", step, path, str(got))
				}
			default:
				if str(got) != w {
					t.Errorf("%s: %s = %q, want %q: %s", step, path, str(got), w, body)
				}
			}
		}
	}
	meta := func(casRequired, current string) map[string]string {
		return map[string]string{
			"metadata.casRequired":            casRequired,
			"metadata.currentVersion":         current,
			"metadata.oldestVersion":          "0",
			"metadata.deactivateVersionAfter": "1d",
			"metadata.maxVersions":            "10",
			"metadata.updatedAt":              "!empty",
		}
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	step := func() { clock.Advance(time.Second) }

	// 001 secret create --cas-required=true --deactivate-version-after="1d"
	// --max-versions=10 NAME data=data
	body := c.ok(200, "POST", "/secret",
		`{"path":"`+name+`","version":{"data":{"data":"data"}},"metadata":{"casRequired":true,"deactivateVersionAfter":"1d","maxVersions":10}}`)
	check("001", body, meta("true", "1"))
	if u := str(field(object(t, body), "metadata.updatedAt")); !wholeSeconds.MatchString(u) {
		t.Errorf("001: updatedAt %q does not match %s", u, wholeSeconds)
	}

	// 002 secret create NAME data=data: the path exists, the CLI fails.
	c.fail(409, 50438145, "POST", "/secret", `{"path":"`+name+`","version":{"data":{"data":"data"}}}`)

	// 003 secret get NAME --include-data=true
	body = c.ok(200, "GET", p+"?includeData=true", "")
	check("003", body, with(meta("true", "1"), "version.data.data", "data", "version.id", "1"))
	if u := str(field(object(t, body), "version.createdAt")); !wholeSeconds.MatchString(u) {
		t.Errorf("003: version.createdAt %q does not match %s", u, wholeSeconds)
	}

	// 004 secret get NAME --include-data=false
	body = c.ok(200, "GET", p+"?includeData=false", "")
	check("004", body, with(meta("true", "1"), "version.createdAt", "!empty", "version.data", "empty"))

	// 005 secret update NAME --cas=1 data=new_data
	step()
	body = c.ok(200, "PUT", p+"?cas=1", `{"version":{"data":{"data":"new_data"}}}`)
	check("005", body, with(meta("true", "2"), "version.data", "empty"))

	// 006 secret get NAME --include-data=true
	body = c.ok(200, "GET", p+"?includeData=true", "")
	check("006", body, with(meta("true", "2"), "version.createdAt", "!empty", "version.data.data", "new_data", "version.id", "2"))

	// 007 secret version create NAME --cas=2 data=new_data_again
	step()
	body = c.ok(200, "POST", p+"/version?cas=2", `{"data":{"data":"new_data_again"}}`)
	check("007", body, map[string]string{"createdAt": "!empty", "state": "active", "id": "3"})

	// 008 secret get NAME --include-data=true
	body = c.ok(200, "GET", p+"?includeData=true", "")
	check("008", body, with(meta("true", "3"), "version.createdAt", "!empty", "version.data.data", "new_data_again", "version.id", "3"))

	// 009 secret version get NAME --version=2 --include-data=true
	body = c.ok(200, "GET", p+"/version/2?includeData=true", "")
	check("009", body, map[string]string{"createdAt": "!empty", "data.data": "new_data", "id": "2", "state": "active"})

	// 010 secret get NAME --version=2 --include-data=true: the secret's
	// metadata stays the current one.
	body = c.ok(200, "GET", p+"?version=2&includeData=true", "")
	check("010", body, with(meta("true", "3"), "version.createdAt", "!empty", "version.data.data", "new_data", "version.id", "2"))

	// 011 secret version update NAME --state activated: the CLI refuses the
	// state before sending; the server refuses it too.
	c.fail(400, 50405377, "PUT", p+"/version/3", `{"state":"activated"}`)

	// 012 secret version update NAME --state deactivated --version=3
	step()
	body = c.ok(200, "PUT", p+"/version/3", `{"state":"deactivated"}`)
	check("012", body, map[string]string{"createdAt": "!empty", "deactivatedAt": "!empty", "data": "empty", "id": "3"})

	// 013 secret get NAME --include-data=true: the current version is
	// deactivated; it is returned without data, currentVersion unchanged.
	body = c.ok(200, "GET", p+"?includeData=true", "")
	check("013", body, with(meta("true", "3"), "version.createdAt", "!empty", "version.data", "empty", "version.id", "3", "version.state", "deactivated"))

	// 014 secret update NAME --cas-required=false data=yet_new_data: the
	// metadata change applies first, so no cas is needed.
	step()
	body = c.ok(200, "PUT", p, `{"metadata":{"casRequired":false},"version":{"data":{"data":"yet_new_data"}}}`)
	check("014", body, meta("false", "4"))

	// 015 secret get NAME --include-data=true
	body = c.ok(200, "GET", p+"?includeData=true", "")
	check("015", body, with(meta("false", "4"), "version.createdAt", "!empty", "version.data.data", "yet_new_data", "version.id", "4"))

	// 016 secret list: the suite's domain holds two more secrets.
	c.ok(200, "POST", "/secret", `{"path":"other/one","version":{"data":{"a":"b"}}}`)
	c.ok(200, "POST", "/secret", `{"path":"other/two","version":{"data":{"a":"b"}}}`)
	list := array(t, c.ok(200, "GET", "/secret", "", "X-Pagination-Size", "100"))
	if len(list) != 3 {
		t.Errorf("016: %d secrets, want 3", len(list))
	}
	for _, it := range list {
		if field(it, "path") == nil || field(it, "metadata") == nil {
			t.Errorf("016: list item without path or metadata: %v", it)
		}
	}

	// 017 secret version list NAME
	if vs := array(t, c.ok(200, "GET", p+"/version", "", "X-Pagination-Size", "100")); len(vs) != 4 {
		t.Errorf("017: %d versions, want 4", len(vs))
	}

	// 018 secret delete NAME
	c.ok(204, "DELETE", p, "")

	// 019 secret config update --deactivate-after="1d" --max-versions=24
	// writes the Vault dialect's config (POST /api/{okmsId}/v1/secret/config);
	// secret config get reads /v2/secretConfig: the same setting.
	r := c.do("POST", "//api/"+c.okmsID+"/v1/secret/config", `{"delete_version_after":"1d","max_versions":24}`,
		"Authorization", "-", "X-Vault-Token", c.token)
	if r.Status != http.StatusNoContent && r.Status != http.StatusOK {
		t.Fatalf("019: POST /v1/secret/config: %d %s", r.Status, r.Body)
	}
	body = c.ok(200, "GET", "/secretConfig", "")
	check("019", body, map[string]string{"deactivateVersionAfter": "1d", "maxVersions": "24"})
}
