package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/coffer-dev/coffer/internal/secretref"
)

// defaultRevision is the revision coffer get and coffer run read when a
// reference names none: disabling a bad version rolls back to the one
// before.
const defaultRevision = "latest_enabled"

func cmdGet(ctx context.Context, e *env, args []string) error {
	f := e.flags("get", "REF [flags]", `
Print a secret's value, or one field of a key-value secret, with nothing
added. REF is TARGET[@REVISION][#FIELD]:

  TARGET    a secret id, or a path such as /prod/db (prod/db, or a bare
            name for a secret in /)
  REVISION  a number, latest or latest_enabled (default latest_enabled)
  FIELD     a key of the secret's value, a flat JSON object; a string is
            printed as is, any other value as JSON

Examples: coffer get /prod/db#password
          coffer get 3f0d8a0e-5a39-4c41-9d8e-2b1f3c1a7e55@2#user`, false)
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return f.usageErrorf("want exactly one REF")
	}
	ref, err := secretref.Parse(pos[0])
	if err != nil {
		return f.usageErrorf("%v", err)
	}
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	value, err := a.value(ctx, ref)
	if err != nil {
		return err
	}
	defer clear(value)
	_, err = e.stdout.Write(value)
	return err
}

// value returns what a reference selects: the data of a version, or one
// field of it. Errors never hold the data.
func (a *api) value(ctx context.Context, ref secretref.Ref) ([]byte, error) {
	if ref.Revision == "" {
		ref.Revision = defaultRevision
	}
	data, rev, err := a.access(ctx, ref)
	if err != nil || ref.Field == "" {
		return data, err
	}
	defer clear(data)
	v, err := field(data, ref.Field)
	if err != nil {
		return nil, fmt.Errorf("%s (revision %d): %w", ref.Target(), rev, err)
	}
	return v, nil
}

// field returns one field of a flat JSON object: a string as is, any other
// value as compact JSON.
func field(data []byte, name string) ([]byte, error) {
	var obj map[string]json.RawMessage
	// The decoder's errors may quote the data: they are not kept.
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return nil, fmt.Errorf("the value is not a JSON object, so it has no field %q", name)
	}
	raw, ok := obj[name]
	if !ok {
		return nil, fmt.Errorf("the value has no field %q", name)
	}
	if raw = bytes.TrimSpace(raw); len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("field %q is not a valid JSON string", name)
		}
		return []byte(s), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("field %q is not valid JSON", name)
	}
	return buf.Bytes(), nil
}
