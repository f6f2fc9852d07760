package engine

import (
	"encoding/json"
	"testing"

	"github.com/coffer-dev/coffer"
)

// TestMergePatch runs the examples of RFC 7396, appendix A.
func TestMergePatch(t *testing.T) {
	for _, tc := range []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"a":"b"}`, `{"a":{"c":null}}`, `{"a":{}}`},
		{`{"n":12345678901234567890}`, `{}`, `{"n":12345678901234567890}`},
	} {
		patch, ok := decodeObject([]byte(tc.patch))
		if !ok {
			t.Fatalf("patch %s", tc.patch)
		}
		got, err := mergePatch([]byte(tc.target), patch)
		if err != nil || string(got) != tc.want {
			t.Errorf("merge %s into %s: %s, %v; want %s", tc.patch, tc.target, got, err, tc.want)
		}
	}
	if _, err := mergePatch([]byte(`[1]`), map[string]any{}); err == nil {
		t.Error("a target that is not an object must fail")
	}
}

// FuzzMergePatch checks that a merge of two JSON objects is a JSON object
// and that the patch's non-null members land in it.
func FuzzMergePatch(f *testing.F) {
	f.Add(`{"a":"b"}`, `{"a":null,"c":{"d":1}}`)
	f.Add(`{"a":{"b":[1,2]}}`, `{"a":{"b":{"c":null}}}`)
	f.Fuzz(func(t *testing.T, target, patch string) {
		p, ok := decodeObject([]byte(patch))
		if !ok {
			return
		}
		got, err := mergePatch([]byte(target), p)
		if err != nil {
			if _, ok := decodeObject([]byte(target)); ok {
				t.Fatalf("merge into the object %q failed: %v", target, err)
			}
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(got, &obj); err != nil || obj == nil {
			t.Fatalf("merge result %q is not an object", got)
		}
		p, _ = decodeObject([]byte(patch))
		for k, v := range p {
			if _, present := obj[k]; present == (v == nil) {
				t.Fatalf("key %q: present %v after a patch with %v", k, present, v)
			}
		}
		if inferType(got) == coffer.TypeKeyValue && jsonKind(got) != "object" {
			t.Fatal("key_value for a non-object")
		}
	})
}
