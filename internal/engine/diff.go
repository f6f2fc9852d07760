package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ coffer.DiffService = (*Engine)(nil)

// DiffVersions compares the keys of two versions of a key_value secret in
// one read transaction. The opened values are wiped before it returns.
func (e *Engine) DiffVersions(ctx context.Context, secretID string, from, to coffer.Revision) (*coffer.VersionDiff, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	var out coffer.VersionDiff
	var objs [2]map[string]json.RawMessage
	var opened []coffer.Payload
	defer func() {
		for _, p := range opened {
			p.Wipe()
		}
	}()
	err = e.view(ctx, func(tx storage.Tx) error {
		for i, rev := range []coffer.Revision{from, to} {
			s, v, err := e.loadVersion(ctx, tx, c, actionAccess, secretID, rev)
			if err != nil {
				return err
			}
			if s.Type != coffer.TypeKeyValue {
				return coffer.Invalid("secret", coffer.ReasonConstraint, "only the versions of a key_value secret can be compared")
			}
			if err := readable(s, v); err != nil {
				return err
			}
			if ep := v.Ephemeral; ep != nil && (ep.ExpiresOnceAccessed || expired(v, now)) {
				return coffer.Precondition(coffer.PreconditionDisabled, "secret_version", fmt.Sprint(v.Revision),
					"a version that expires once accessed, or has expired, cannot be compared")
			}
			data, err := e.open(ctx, tx, s, v)
			if err != nil {
				return err
			}
			opened = append(opened, data)
			if objs[i], err = jsonObject(data); err != nil {
				return err
			}
			out.Secret = s
			vv := v.Version
			if i == 0 {
				out.From = &vv
			} else {
				out.To = &vv
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a, b := objs[0], objs[1]
	keys := map[string]json.RawMessage{}
	for k, v := range a {
		keys[k] = v
	}
	for k, v := range b {
		keys[k] = v
	}
	for _, k := range sortedKeys(keys) {
		va, inA := a[k]
		vb, inB := b[k]
		d := coffer.KeyDiff{Key: k, Change: coffer.KeyUnchanged}
		switch {
		case !inA:
			d.Change = coffer.KeyAdded
		case !inB:
			d.Change = coffer.KeyRemoved
		default:
			ca, cb := compactJSON(va), compactJSON(vb)
			if !bytes.Equal(ca, cb) {
				d.Change = coffer.KeyChanged
			}
			clear(ca)
			clear(cb)
		}
		out.Keys = append(out.Keys, d)
	}
	return &out, nil
}

// compactJSON returns raw without insignificant spaces, so that a value
// written with other spacing compares equal.
func compactJSON(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return append([]byte(nil), raw...)
	}
	return buf.Bytes()
}
