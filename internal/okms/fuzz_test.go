package okms

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
)

// The decoders face untrusted bytes. Whatever they are given, they must not
// panic, and every failure must be a client error (EINVALID, or ETOOLARGE
// for bodies) with a named argument and a bounded message: the dialect turns
// it into a 400, anything else into a 500.

func checkClientError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *coffer.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *coffer.Error", err, err)
	}
	if e.Code != coffer.EINVALID {
		t.Fatalf("error code %q, want %q: %v", e.Code, coffer.EINVALID, err)
	}
	if len(e.Fields) == 0 || e.Fields[0].Field == "" || e.Fields[0].Reason == "" {
		t.Fatalf("EINVALID error names no argument: %v", err)
	}
	if len(e.Message) > 512 {
		t.Fatalf("error message of %d bytes", len(e.Message))
	}
}

// encodeTarget writes a target back as the SDK would: the path as one
// segment with its slashes encoded.
func encodeTarget(t target) string {
	s := url.PathEscape(t.path)
	switch t.kind {
	case targetVersions:
		s += "/version"
	case targetVersion:
		s += "/version/" + strconv.FormatUint(uint64(t.version), 10)
	}
	return s
}

var pathSeeds = []string{
	"a%2Fb", "a/b", "a%2Fb/version", "a%2Fb/version/3", "a/b/version/3", "version", "version/version",
	"a%2Fversion", "a%2Fversion/version/1", "app%2Fdb/creds", "%2e%2e/x", "a%2F..%2Fb", "a//b", "a%2F%2Fb",
	"%2Fa", "a/", "a%2", "a/version/0", "a/version/01", "a/version/4294967296", "a/version/abc", "", "..", ".",
	"a%00b", "%zz", "a b", "a%20b", strings.Repeat("a/", 600),
}

func FuzzParseSecretURL(f *testing.F) {
	for _, s := range pathSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		tg, err := parseSecretURL(rest)
		checkClientError(t, err)
		if err != nil {
			return
		}
		if tg.path == "" || len(tg.path) > maxPathLen {
			t.Fatalf("path %q accepted", tg.path)
		}
		for _, seg := range strings.Split(tg.path, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("path %q with segment %q accepted from %q", tg.path, seg, rest)
			}
		}
		if tg.kind == targetVersion && tg.version == 0 {
			t.Fatalf("version 0 accepted from %q", rest)
		}
		// The SDK's encoding of the target names the same target.
		again, err := parseSecretURL(encodeTarget(tg))
		if err != nil || again != tg {
			t.Fatalf("%q -> %+v, re-encoded %q -> %+v, %v", rest, tg, encodeTarget(tg), again, err)
		}
	})
}

func TestParseSecretURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want target
		bad  bool
	}{
		{in: "a%2Fb", want: target{kind: targetSecret, path: "a/b"}},
		{in: "a/b", want: target{kind: targetSecret, path: "a/b"}},
		{in: "a%2Fb/version", want: target{kind: targetVersions, path: "a/b"}},
		{in: "a/b/version/3", want: target{kind: targetVersion, path: "a/b", version: 3}},
		{in: "a%2Fversion", want: target{kind: targetSecret, path: "a/version"}},
		{in: "version", want: target{kind: targetSecret, path: "version"}},
		{in: "version/version", want: target{kind: targetVersions, path: "version"}},
		{in: "version/3", want: target{kind: targetSecret, path: "version/3"}},
		{in: "a%2Fb/versio%6E/7", want: target{kind: targetVersion, path: "a/b", version: 7}},
		{in: "a/version/abc", bad: true},
		{in: "a/version/0", bad: true},
		{in: "%2e%2e/x", bad: true},
		{in: "a%2F..%2Fb", bad: true},
		{in: "a%2F.%2Fb", bad: true},
		{in: "a//b", bad: true},
		{in: "a%2F%2Fb", bad: true},
		{in: "%2Fa", bad: true},
		{in: "a/", bad: true},
		{in: "a%2", bad: true},
		{in: "", bad: true},
		{in: "/version", bad: true},
	} {
		got, err := parseSecretURL(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: accepted as %+v", tc.in, got)
			}
			checkClientError(t, err)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", encodeCursor(10), encodeCursor(1 << 30), "abc", "bzEw", "bzEw==", "bzA", "bzAx", "!!!!",
		base64.RawURLEncoding.EncodeToString([]byte("o-1")), base64.RawURLEncoding.EncodeToString([]byte("o99999999999"))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		n, err := decodeCursor(c)
		checkClientError(t, err)
		if err != nil {
			return
		}
		if n < 0 || n > maxOffset {
			t.Fatalf("offset %d from %q", n, c)
		}
		// A cursor the server accepts is one it wrote.
		if c != "" && encodeCursor(n) != c {
			t.Fatalf("%q accepted as %d, which encodes as %q", c, n, encodeCursor(n))
		}
	})
}

func TestCursor(t *testing.T) {
	for _, n := range []int{1, 10, 100, 12345, maxOffset} {
		got, err := decodeCursor(encodeCursor(n))
		if err != nil || got != n {
			t.Errorf("%d: %d, %v", n, got, err)
		}
	}
	for _, c := range []string{"abc", "bzA", encodeCursor(0), encodeCursor(maxOffset + 1), "bzEw==", strings.Repeat("A", 40)} {
		if _, err := decodeCursor(c); err == nil {
			t.Errorf("%q accepted", c)
		}
	}
}

var bodySeeds = []string{
	`{"path":"a/b","version":{"data":{"k":"v"}}}`,
	`{"path":"a/b","version":{"data":{"k":{"n":[1,2,{"x":null}]}}},"metadata":{"casRequired":true,"customMetadata":{"a":"b"},"deactivateVersionAfter":"1d","maxVersions":10}}`,
	`{"metadata":{"cas_required":false,"max_versions":3,"deactivate_version_after":"10h30m10s","custom_metadata":{}}}`,
	`{"version":{"data":{ "spaced" : "\u00e9" }}}`,
	`{"data":{}}`, `{"data":"x"}`, `{"data":null}`, `{"data":[1]}`,
	`{"state":"deactivated"}`, `{"state":1}`,
	`{"casRequired":true,"deactivateVersionAfter":"3600","maxVersions":24}`,
	`{"maxVersions":-1}`, `{"deactivateVersionAfter":"-1h"}`, `{"deactivateVersionAfter":"9999999999999d"}`,
	`{"path":"x"} x`, `[]`, `null`, `{`, ``, `"x"`,
}

func FuzzDecodeBody(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var cr createSecretRequest
		err := decodeJSON(body, &cr)
		checkClientError(t, err)
		if err == nil {
			if cr.Path != nil {
				checkClientError(t, checkPath("path", *cr.Path))
			}
			_, err := cr.Metadata.settings()
			checkClientError(t, err)
			if cr.Version != nil {
				checkData(t, body, cr.Version.Data)
			}
		}
		var ur updateSecretRequest
		checkClientError(t, decodeJSON(body, &ur))
		var vi versionInput
		if err := decodeJSON(body, &vi); err == nil {
			checkData(t, body, vi.Data)
		} else {
			checkClientError(t, err)
		}
		var ci configInput
		if err := decodeJSON(body, &ci); err == nil {
			_, err := ci.settings()
			checkClientError(t, err)
		} else {
			checkClientError(t, err)
		}
		var vr updateVersionRequest
		checkClientError(t, decodeJSON(body, &vr))
	})
}

// checkData checks that accepted data is a JSON object made of the exact
// bytes of the body.
func checkData(t *testing.T, body []byte, raw json.RawMessage) {
	t.Helper()
	data, err := secretData("data", raw)
	checkClientError(t, err)
	if err != nil {
		return
	}
	if !bytes.Contains(body, data) {
		t.Fatalf("data %q is not bytes of the body %q", data, body)
	}
	if !isJSONObject(data) {
		t.Fatalf("data %q accepted, not a JSON object", data)
	}
}

func FuzzDuration(f *testing.F) {
	for _, s := range []string{"1d", "10h30m10s", "90m", "3600", "0s", "", "1.5h", "1y", "-1h", "+1h", "1d12h", "1.5d",
		"9999999999999d", "99999999999999999999", "1ms", "1h0m0.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration("deactivateVersionAfter", s)
		checkClientError(t, err)
		if err != nil {
			return
		}
		if d < 0 || d > maxDuration {
			t.Fatalf("%q accepted as %v", s, d)
		}
		// What the server writes, it reads back as the same duration.
		again, err := parseDuration("deactivateVersionAfter", formatDuration(d))
		if err != nil || again != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d, formatDuration(d), again, err)
		}
	})
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                  "0s",
		24 * time.Hour:     "1d",
		7 * 24 * time.Hour: "7d",
		36 * time.Hour:     "36h",
		90 * time.Minute:   "1h30m",
		10*time.Hour + 30*time.Minute + 10*time.Second: "10h30m10s",
		time.Second:             "1s",
		1500 * time.Millisecond: "1.5s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

func TestWireNames(t *testing.T) {
	_, body := toError(coffer.Invalid("max_versions", coffer.ReasonConstraint, "max_versions must be between 0 and 10000"))
	if len(body.Errors) != 1 || body.Errors[0] != "maxVersions must be between 0 and 10000" {
		t.Errorf("%q", body.Errors)
	}
	status, body := toError(errors.New("disk on fire"))
	if status != 500 || body.ErrorCode != codeInternal || body.Errors[0] != "internal error" {
		t.Errorf("internal: %d %+v", status, body)
	}
}
