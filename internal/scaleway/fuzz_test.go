package scaleway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scaleway/scaleway-sdk-go/scw"

	"github.com/coffer-dev/coffer"
)

// The request decoders face untrusted bytes. Whatever they are given, they
// must not panic, and every failure must be an EINVALID *coffer.Error that
// names the argument at fault: the dialect turns it into a 400
// invalid_arguments body with details, and anything else into a 500.

// checkInvalid fails unless err is nil or an EINVALID *coffer.Error with
// named fields and a message of bounded size.
func checkInvalid(t *testing.T, err error) {
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
	if len(e.Fields) == 0 {
		t.Fatalf("EINVALID error names no argument: %v", err)
	}
	for _, f := range e.Fields {
		if f.Field == "" || f.Reason == "" {
			t.Fatalf("field error %+v: want an argument name and a reason", f)
		}
	}
	// A message may quote a field name but never echo a whole input.
	if len(e.Message) > 512 {
		t.Fatalf("error message of %d bytes", len(e.Message))
	}
}

// Seeds: bodies the Go and JS SDKs send (spec §1.4, §8), and near misses.
var (
	createSecretSeeds = []string{
		`{"project_id":"2f3e5b1a-8c4d-4e6f-9a0b-1c2d3e4f5a6b","name":"secretNameBasic","tags":["devtools","provider","terraform"],"description":"secret description","type":"opaque","path":"/","protected":false}`,
		`{"project_id":"2f3e5b1a-8c4d-4e6f-9a0b-1c2d3e4f5a6b","name":"s","tags":null,"type":"unknown_type","ephemeral_policy":{"time_to_live":"1800.000000000s","expires_once_accessed":false,"action":"disable"},"protected":false}`,
		`{"project_id":"2f3e5b1a-8c4d-4e6f-9a0b-1c2d3e4f5a6b","name":"s","tags":[],"type":"key_value","protected":true,"key_id":"b9a22406-1f0e-4c2b-8d3a-5e6f7a8b9c0d"}`,
		`{"project_id":"2f3e5b1a-8c4d-4e6f-9a0b-1c2d3e4f5a6b","name":"s","ephemeral_policy":{"time_to_live":null,"expires_once_accessed":true,"action":"delete"}}`,
		`{"name":"s","path":"/a/b/","type":"certificate"}`,
		`{"name":5,"tags":"x"}`,
		`{"ephemeral_policy":{"time_to_live":"30m","action":"explode"}}`,
		`{"type":"password"}`,
		`{"name":"a"} trailing`,
		`[]`, `null`, `{`, ``,
	}
	createVersionSeeds = []string{
		`{"data":"bXlfc3VwZXJfc2VjcmV0","description":"version1"}`,
		`{"data":"bXlfc3VwZXJfc2VjcmV0X3Yy","disable_previous":true,"data_crc32":3904355907}`,
		`{"data":"","description":null}`,
		`{"data":"YQ"}`, `{"data":"-_-_"}`, `{"data":"YR=="}`, `{"data":"YQ==\n"}`,
		`{"data":5}`, `{"data":"YQ==","data_crc32":-1}`, `{"data":"YQ==","data_crc32":4294967296}`,
		`{}`, `{"data":null}`,
	}
	updateSecretSeeds = []string{
		`{"name":"secretNameBasicUpdated","tags":["devtools"],"description":"update description"}`,
		`{"tags":[],"description":"","path":"/a/"}`,
		`{"ephemeral_policy":{"time_to_live":"3600.000000000s","expires_once_accessed":null,"action":"delete"}}`,
		`{"ephemeral_policy":{"time_to_live":"1.5s","action":"unknown_action"}}`,
		`{"name":null,"tags":null}`,
		`{"tags":[1]}`, `{"ephemeral_policy":[]}`,
	}
	updateVersionSeeds = []string{
		`{"description":"renamed"}`,
		`{"description":"x","ephemeral_properties":{"expires_at":null,"expires_once_accessed":null,"action":"unknown_action"}}`,
		`{"ephemeral_properties":{"expires_at":"2026-07-03T15:27:54.719648Z","expires_once_accessed":true,"action":"delete"}}`,
		`{"ephemeral_properties":{"expires_at":"2026-07-03T17:27:54.719648123+02:00","action":"disable"}}`,
		`{"ephemeral_properties":{"expires_at":"tomorrow"}}`,
		`{"ephemeral_properties":{"action":"explode"}}`,
		`{"description":5}`,
	}
)

func addSeeds(f *testing.F, seeds []string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
}

func FuzzCreateSecretRequest(f *testing.F) {
	addSeeds(f, createSecretSeeds)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req createSecretRequest
		err := decodeJSON(body, &req)
		if err == nil {
			var c coffer.SecretCreate
			c, err = req.secretCreate()
			if err == nil {
				if c.Type != "" && !c.Type.Valid() {
					t.Fatalf("accepted secret type %q", c.Type)
				}
				if p := c.Ephemeral; p != nil {
					if p.TTL < 0 {
						t.Fatalf("accepted a negative TTL %v", p.TTL)
					}
					if p.Action != "" && p.Action != coffer.EphemeralDisable && p.Action != coffer.EphemeralDelete {
						t.Fatalf("accepted action %q", p.Action)
					}
				}
			}
		}
		checkInvalid(t, err)
	})
}

func FuzzCreateVersionRequest(f *testing.F) {
	addSeeds(f, createVersionSeeds)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req createVersionRequest
		err := decodeJSON(body, &req)
		if err == nil {
			var c coffer.VersionCreate
			c, err = req.versionCreate()
			if err == nil {
				// Only padded standard base64 is accepted (the decoder
				// skips line breaks, as base64 allows).
				sent := strings.NewReplacer("\r", "", "\n", "").Replace(*req.Data)
				if got := base64.StdEncoding.EncodeToString(c.Data); got != sent {
					t.Fatalf("data %q accepted as bytes that encode to %q", sent, got)
				}
			}
		}
		checkInvalid(t, err)
	})
}

func FuzzUpdateSecretRequest(f *testing.F) {
	addSeeds(f, updateSecretSeeds)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req updateSecretRequest
		err := decodeJSON(body, &req)
		if err == nil {
			var u coffer.SecretUpdate
			u, err = req.secretUpdate()
			if err == nil && u.Ephemeral != nil && u.Ephemeral.TTL < 0 {
				t.Fatalf("accepted a negative TTL %v", u.Ephemeral.TTL)
			}
		}
		checkInvalid(t, err)
	})
}

func FuzzUpdateVersionRequest(f *testing.F) {
	addSeeds(f, updateVersionSeeds)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req updateVersionRequest
		err := decodeJSON(body, &req)
		if err == nil {
			var u coffer.VersionUpdate
			u, err = req.versionUpdate()
			if err == nil && u.Ephemeral != nil && u.Ephemeral.ExpiresAt != nil {
				at := *u.Ephemeral.ExpiresAt
				if at.Location() != time.UTC || at.Nanosecond()%1000 != 0 {
					t.Fatalf("expires_at %v is not UTC at microsecond precision", at)
				}
			}
		}
		checkInvalid(t, err)
	})
}

// FuzzDecodeBody adds the Content-Type header and the body size limit to
// the JSON decoding.
func FuzzDecodeBody(f *testing.F) {
	for _, ct := range []string{"", "application/json", "application/json; charset=utf-8", "text/plain", "application/json;;", "APPLICATION/JSON"} {
		for _, s := range createSecretSeeds[:3] {
			f.Add(ct, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest("POST", "/secrets", bytes.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 256)
		var req createSecretRequest
		checkInvalid(t, decodeBody(r, &req))
	})
}

// Seeds of the durations of spec §1.7: what the service sends, what the Go
// SDK sends, and what neither does.
var durationSeeds = []string{
	"1800s", "1800.000000000s", "0s", "1s", "1.5s", "0.000000001s", "31536000s", "31535999.999999999s",
	"3153600000s", "3153600000.999999999s", "", "s", "30m", "1800", "-1s", "+1s", "1e3s", "1.s", ".5s",
	"1.0000000001s", "18446744073709551616s", "١٢s", " 1s", "1s ",
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range durationSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("parseDuration(%q) failed with a value %v", s, d)
			}
			return
		}
		if d < 0 {
			t.Fatalf("parseDuration(%q) = %v, a negative duration", s, d)
		}
		// What coffer sends reads back as the same duration, with the
		// decoder of coffer and with the SDK's.
		b, err := duration(d).MarshalJSON()
		if err != nil {
			t.Fatalf("marshal %v: %v", d, err)
		}
		var back duration
		if err := back.UnmarshalJSON(b); err != nil || time.Duration(back) != d {
			t.Fatalf("parseDuration(%q) = %v, sent as %s, read back as %v (%v)", s, d, b, time.Duration(back), err)
		}
		var sdk scw.Duration
		if err := json.Unmarshal(b, &sdk); err != nil || *sdk.ToTimeDuration() != d {
			t.Fatalf("%v sent as %s reads in the Go SDK as %v (%v)", d, b, sdk.ToTimeDuration(), err)
		}
		// What the Go SDK sends for d reads as d.
		goSDK := fmt.Sprintf("%d.%09ds", d/time.Second, d%time.Second)
		if got, err := parseDuration(goSDK); err != nil || got != d {
			t.Fatalf("the Go SDK form %q of %v reads as %v (%v)", goSDK, d, got, err)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("parseDuration accepted invalid UTF-8 %q", s)
		}
	})
}
