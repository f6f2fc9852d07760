package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// PatchVersion merges a JSON merge patch into the data of a secret's current
// version (its last revision) and writes the result as a new version. The
// read, the merge, the check-and-set and the write happen in one
// transaction, so that no concurrent write is lost.
func (e *Engine) PatchVersion(ctx context.Context, secretID string, in coffer.VersionPatch) (*coffer.Secret, *coffer.Version, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(in.Patch) > e.limits.MaxPayloadSize {
		return nil, nil, coffer.Invalid("data", coffer.ReasonConstraint, fmt.Sprintf("data must be at most %d bytes", e.limits.MaxPayloadSize))
	}
	if err := checkJSONText(in.Patch); err != nil {
		return nil, nil, err
	}
	patch, ok := decodeObject(in.Patch)
	if !ok {
		return nil, nil, coffer.Invalid("data", coffer.ReasonFormat, "the patch must be a JSON object")
	}
	var (
		s        *coffer.Secret
		cur, out *storage.Version
	)
	err = e.update(ctx, func(tx storage.Tx) error {
		cur = nil
		if s, err = e.loadSecret(ctx, tx, c, actionWrite, secretID); err != nil {
			return err
		}
		// The patch reads the current data: it needs the right to.
		if err := e.authorize(ctx, tx, c, actionAccess, s.ProjectID, s.Path); err != nil {
			return err
		}
		if s.State == coffer.SecretDeletionScheduled {
			return coffer.Precondition(coffer.PreconditionDeletion, "secret", s.ID, "the secret is scheduled for deletion: restore it first")
		}
		if s.LastRevision == 0 {
			return coffer.NotFound("secret_version", "latest")
		}
		v, err := tx.GetVersion(ctx, s.ID, s.LastRevision)
		if err != nil {
			return storageErr(err, "secret_version", fmt.Sprint(s.LastRevision))
		}
		cur = v
		if err := readable(s, v); err != nil {
			return err
		}
		if expired(v, e.Now()) {
			return errExpired(v)
		}
		data, err := e.open(ctx, tx, s, v)
		if err != nil {
			return err
		}
		defer data.Wipe()
		merged, err := mergePatch(data, patch)
		if err != nil {
			return coffer.Precondition(coffer.PreconditionNotJSONObject, "secret_version", fmt.Sprint(v.Revision),
				"the data of the current version is not a JSON object: it cannot be patched")
		}
		defer clear(merged)
		if len(merged) > e.limits.MaxPayloadSize {
			return coffer.Invalid("data", coffer.ReasonConstraint, fmt.Sprintf("the patched data must be at most %d bytes", e.limits.MaxPayloadSize))
		}
		out, err = e.addVersion(ctx, tx, c, s, coffer.VersionCreate{Data: merged, CAS: in.CAS})
		return err
	})
	if err != nil {
		if e := coffer.AsError(err); cur != nil && e != nil && e.Code == coffer.EPRECONDITION && e.Resource == "secret_version" {
			cur.Data = nil
			cur.Latest = cur.Revision == s.LatestRevision
			return s, &cur.Version, err
		}
		return nil, nil, err
	}
	return s, &out.Version, nil
}

// decodeObject decodes one JSON object, keeping numbers as they are written.
func decodeObject(data []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) != 0 {
		return nil, false // something follows the object
	}
	return obj, true
}

var errNotObject = errors.New("not a JSON object")

// mergePatch applies an RFC 7396 merge patch to target, a JSON object, and
// returns the result. Numbers keep their text; keys come out sorted.
func mergePatch(target []byte, patch map[string]any) ([]byte, error) {
	obj, ok := decodeObject(target)
	if !ok {
		return nil, errNotObject
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(mergeObject(obj, patch)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// mergeObject merges patch into target, which it changes and returns: null
// members remove keys, object members merge recursively (into an empty
// object where target holds something else), other members replace.
func mergeObject(target, patch map[string]any) map[string]any {
	for k, pv := range patch {
		switch pv := pv.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			tv, ok := target[k].(map[string]any)
			if !ok {
				tv = map[string]any{}
			}
			target[k] = mergeObject(tv, pv)
		default:
			target[k] = pv
		}
	}
	return target
}

// inferType returns the type of a secret created by a write of data: key_value
// for a flat JSON object (no object or array values), which is what that type
// accepts, and opaque for anything else.
func inferType(data []byte) coffer.SecretType {
	obj, err := jsonObject(data)
	if err != nil {
		return coffer.TypeOpaque
	}
	for _, v := range obj {
		if kind := jsonKind(v); kind == "object" || kind == "array" {
			return coffer.TypeOpaque
		}
	}
	return coffer.TypeKeyValue
}

// withInferredType returns c with its type inferred from data when it has none.
func withInferredType(c coffer.SecretCreate, data []byte) coffer.SecretCreate {
	if c.Type == "" {
		c.Type = inferType(data)
	}
	return c
}
