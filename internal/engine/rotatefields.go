package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// RotateFields rotates fields of a key_value secret without a rotation
// job: it reads the current version and writes a new one in which each
// field named in lengths holds a fresh random string of that length (the
// generator of NAVER's generate-random-secret, every kind of character but
// the space, at least one of each), the other fields kept. With no lengths,
// the secret's rotation targets are rotated at randomTargetLength. The read
// and the write are one transaction, so that no concurrent write is lost;
// every refusal happens before any effect. Returns EINVALID (a length out of
// 5 to 32, no fields and no rotation targets), ENOTFOUND (secret, or no
// version yet), EFORBIDDEN, EPRECONDITION (not key_value, disabled,
// scheduled for deletion, a rotation job open, the current version not
// readable, a named field absent), EQUOTA.
func (e *Engine) RotateFields(ctx context.Context, secretID string, lengths map[string]int) (*coffer.Secret, *coffer.Version, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(lengths)) {
		if n := lengths[name]; n < 5 || n > 32 {
			return nil, nil, coffer.Invalid("length", coffer.ReasonConstraint, fmt.Sprintf("the length of %q must be between 5 and 32", name))
		}
	}
	var (
		s   *coffer.Secret
		out *storage.Version
	)
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, actionWrite, secretID); err != nil {
			return err
		}
		// The new version keeps the other fields: it reads them.
		if err := e.authorize(ctx, tx, c, actionAccess, s.ProjectID, s.Path); err != nil {
			return err
		}
		if s.Type != coffer.TypeKeyValue {
			return coffer.Precondition("not_key_value", "secret", s.ID, "only the fields of a key_value secret can be rotated")
		}
		if err := usable(s); err != nil {
			return err
		}
		if s.State == coffer.SecretRotating {
			return statusError(s, "rotated while a rotation job is open")
		}
		fields := lengths
		if len(fields) == 0 {
			if s.Rotation == nil || len(s.Rotation.Targets) == 0 {
				return coffer.Invalid("fields", coffer.ReasonRequired, "name the fields to rotate: the secret has no rotation targets")
			}
			fields = make(map[string]int, len(s.Rotation.Targets))
			for _, t := range s.Rotation.Targets {
				fields[t] = randomTargetLength
			}
		}
		if s.LatestRevision == 0 {
			return coffer.NotFound("secret_version", "latest")
		}
		rev, err := currentRevision(ctx, tx, s)
		if err != nil {
			return err
		}
		v, err := tx.GetVersion(ctx, s.ID, rev)
		if err != nil {
			return storageErr(err, "secret_version", fmt.Sprint(rev))
		}
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
		obj, err := jsonObject(data)
		if err != nil {
			return coffer.Precondition(coffer.PreconditionNotJSONObject, "secret_version", fmt.Sprint(v.Revision), "the current value is not a JSON object")
		}
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			if _, ok := obj[name]; !ok {
				return coffer.Precondition("no_such_field", "secret_version", fmt.Sprint(v.Revision), fmt.Sprintf("the secret has no field %q", name))
			}
			r, err := randomString(coffer.RandomOptions{Length: fields[name], RequireEachIncludedType: true})
			if err != nil {
				return err
			}
			obj[name], _ = json.Marshal(r)
		}
		next, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("encode rotated value: %w", err)
		}
		defer clear(next)
		out, err = e.addVersion(ctx, tx, c, s, coffer.VersionCreate{Data: next})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return s, &out.Version, nil
}
