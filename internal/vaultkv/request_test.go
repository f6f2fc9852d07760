package vaultkv

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"90", 90 * time.Second, true},
		{"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"2d", 48 * time.Hour, true},
		{"-1", -time.Second, true},
		{"-1s", -time.Second, true},
		{"1.5h", 90 * time.Minute, true},
		{"soon", 0, false},
		{"d", 0, false},
		{"1e9d", 0, false},
		{"999999999999", 0, false},
		{"900000h", 0, false},
	} {
		got, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestWeakForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{`3`, 3, true}, {`"3"`, 3, true}, {`" 3 "`, 3, true}, {`3.0`, 3, true}, {`1e3`, 1000, true},
		{`null`, 0, true}, {`""`, 0, true}, {`true`, 1, true}, {`false`, 0, true},
		{`3.5`, 0, false}, {`"x"`, 0, false}, {`[]`, 0, false}, {`{}`, 0, false}, {`1e300`, 0, false},
	} {
		got, err := weakInt(json.RawMessage(tc.in))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("weakInt(%s) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want bool
		ok   bool
	}{
		{`true`, true, true}, {`"true"`, true, true}, {`"0"`, false, true}, {`1`, true, true},
		{`null`, false, true}, {`"yes"`, false, false}, {`[]`, false, false},
	} {
		got, err := boolField(map[string]json.RawMessage{"b": json.RawMessage(tc.in)}, "b")
		if (err == nil) != tc.ok || (tc.ok && *got != tc.want) {
			t.Errorf("boolField(%s) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	cm, err := customMetadata(json.RawMessage(`{"s":"x","n":1.50,"t":true,"f":false,"z":null}`))
	if err != nil || *cm["s"] != "x" || *cm["n"] != "1.50" || *cm["t"] != "1" || *cm["f"] != "0" || cm["z"] != nil {
		t.Errorf("customMetadata: %v, %v", cm, err)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"a":{}}`, `{"a":[1]}`, `null`} {
		if _, err := customMetadata(json.RawMessage(bad)); err == nil {
			t.Errorf("customMetadata(%s) must fail", bad)
		}
	}
}
