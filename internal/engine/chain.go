package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// The stage operations read and write a secret by stage: a stage is a
// label, held by the secret, on one of its versions (coffer.Secret.Stages).
// A normal write (addVersion) makes the new version active and the active
// one previous; a stage write (writeStage) labels the new version with its
// stage alone. A version a stage names that is gone (pruned), destroyed,
// disabled or short-lived (an ephemeral policy that would fire) is no
// value: the stage reads as empty.

var _ coffer.ChainService = (*Engine)(nil)

// maxRotationTargets bounds the rotation targets of a secret.
const maxRotationTargets = 100

// currentRevision returns the version that "latest" reads: the latest
// revision, unless a pending or previous value was written above the
// active stage's, which then stays the current version for the dialects
// that know no stages.
func currentRevision(ctx context.Context, tx storage.Tx, s *coffer.Secret) (uint32, error) {
	latest := s.LatestRevision
	a := s.Stages[coffer.StageActive]
	if a == 0 || a >= latest || (s.Stages[coffer.StagePending] != latest && s.Stages[coffer.StagePrevious] != latest) {
		return latest, nil
	}
	v, err := tx.GetVersion(ctx, s.ID, a)
	if errors.Is(err, storage.ErrNotFound) {
		return latest, nil
	} else if err != nil {
		return 0, err
	}
	if v.State == coffer.VersionDestroyed {
		return latest, nil
	}
	return a, nil
}

// validChainName reports whether name fits NAVER's rule for new secrets:
// 3 to 15 letters, digits, "-" or "_", starting with a letter.
func validChainName(name string) bool {
	if len(name) < 3 || len(name) > 15 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter || !letter && !(c >= '0' && c <= '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// validateChainValue checks the value of one stage: a JSON object of at
// most coffer.MaxChainValueSize bytes.
func validateChainValue(field string, v coffer.Payload) (map[string]json.RawMessage, error) {
	switch {
	case len(v) == 0:
		return nil, coffer.Invalid(field, coffer.ReasonRequired, field+" is required")
	case len(v) > coffer.MaxChainValueSize:
		return nil, coffer.Invalid(field, coffer.ReasonConstraint, fmt.Sprintf("%s must be at most %d bytes", field, coffer.MaxChainValueSize))
	}
	obj, err := jsonObject(v)
	if err != nil {
		return nil, coffer.Invalid(field, coffer.ReasonFormat, field+" must be a JSON object")
	}
	return obj, nil
}

// validateTargets checks rotation targets against the value they name keys of.
func validateTargets(targets []string, obj map[string]json.RawMessage) error {
	if len(targets) == 0 {
		return coffer.Invalid("rotation_targets", coffer.ReasonRequired, "rotation_targets must name at least one key of the value")
	}
	if len(targets) > maxRotationTargets {
		return coffer.Invalid("rotation_targets", coffer.ReasonConstraint, fmt.Sprintf("rotation_targets must name at most %d keys", maxRotationTargets))
	}
	for i, t := range targets {
		if _, ok := obj[t]; !ok {
			return coffer.Invalid("rotation_targets", coffer.ReasonConstraint, "every rotation target must be a key of the value")
		}
		if slices.Contains(targets[:i], t) {
			return coffer.Invalid("rotation_targets", coffer.ReasonConstraint, "rotation_targets must not repeat a key")
		}
	}
	return nil
}

// CreateChainSecret creates a key_value secret in the folder "/" with its
// first version, which holds the active stage, and its rotation targets.
func (e *Engine) CreateChainSecret(ctx context.Context, in coffer.ChainSecretCreate) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !validChainName(in.Name) {
		return nil, coffer.Invalid("name", coffer.ReasonFormat, "name must be 3 to 15 letters, digits, '-' or '_', starting with a letter")
	}
	obj, err := validateChainValue("value", in.Value)
	if err != nil {
		return nil, err
	}
	if err := validateTargets(in.RotationTargets, obj); err != nil {
		return nil, err
	}
	if in.ProjectID == "" {
		in.ProjectID = c.DefaultProjectID
	}
	s, err := e.newSecret(coffer.SecretCreate{
		ProjectID: in.ProjectID, Path: "/", Name: in.Name, Type: coffer.TypeKeyValue,
		Description: in.Description, KeyID: in.KeyID,
	})
	if err != nil {
		return nil, err
	}
	s.Rotation = &coffer.RotationPolicy{Targets: slices.Clone(in.RotationTargets)}
	err = e.update(ctx, func(tx storage.Tx) error {
		if err := e.insertSecret(ctx, tx, c, s); err != nil {
			return err
		}
		_, err := e.addVersion(ctx, tx, c, s, coffer.VersionCreate{Data: in.Value, CAS: ptr(uint32(0))})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// stageValue opens the version a stage names, or returns nil when it
// holds no readable value (see the top of this file).
func (e *Engine) stageValue(ctx context.Context, tx storage.Tx, s *coffer.Secret, stage string, now time.Time) (coffer.Payload, uint32, error) {
	rev, ok := s.Stages[stage]
	if !ok || rev == 0 {
		return nil, 0, nil
	}
	v, err := tx.GetVersion(ctx, s.ID, rev)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, err
	}
	if !v.Readable() || expired(v, now) || (v.Ephemeral != nil && v.Ephemeral.ExpiresOnceAccessed) {
		return nil, 0, nil
	}
	data, err := e.open(ctx, tx, s, v)
	return data, rev, err
}

// ReadChain returns the value of every stage in one read transaction.
func (e *Engine) ReadChain(ctx context.Context, id string) (*coffer.Secret, *coffer.SecretChain, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	var (
		s     *coffer.Secret
		chain coffer.SecretChain
		read  []uint32
	)
	now := e.Now()
	err = e.view(ctx, func(tx storage.Tx) error {
		chain.Wipe()
		chain, read = coffer.SecretChain{}, nil
		if s, err = e.loadSecret(ctx, tx, c, actionAccess, id); err != nil {
			return err
		}
		if err := usable(s); err != nil {
			return err
		}
		for _, st := range []struct {
			name string
			dst  *coffer.Payload
		}{{coffer.StagePrevious, &chain.Previous}, {coffer.StageActive, &chain.Active}, {coffer.StagePending, &chain.Pending}} {
			data, rev, err := e.stageValue(ctx, tx, s, st.name, now)
			if err != nil {
				return err
			}
			if data != nil {
				*st.dst = data
				read = append(read, rev)
			}
		}
		return nil
	})
	if err != nil {
		chain.Wipe()
		return nil, nil, err
	}
	for _, rev := range read {
		e.recordAccess(s.ID, rev, now)
	}
	return s, &chain, nil
}

// ReadStage returns the value of one stage.
func (e *Engine) ReadStage(ctx context.Context, id, stage string) (*coffer.Secret, coffer.Payload, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !coffer.ValidStage(stage) {
		return nil, nil, coffer.Invalid("stage", coffer.ReasonConstraint, "stage must be previous, active or pending")
	}
	var (
		s    *coffer.Secret
		data coffer.Payload
		rev  uint32
	)
	now := e.Now()
	err = e.view(ctx, func(tx storage.Tx) error {
		data.Wipe()
		if s, err = e.loadSecret(ctx, tx, c, actionAccess, id); err != nil {
			return err
		}
		if err := usable(s); err != nil {
			return err
		}
		if data, rev, err = e.stageValue(ctx, tx, s, stage, now); err != nil {
			return err
		}
		if data == nil {
			return coffer.NotFound("secret_stage", stage)
		}
		noteRevision(ctx, rev)
		return nil
	})
	if err != nil {
		data.Wipe()
		return nil, nil, err
	}
	e.recordAccess(s.ID, rev, now)
	return s, data, nil
}

// writeStage writes value as a new version of s that holds stage alone:
// the other stages stay where they were.
func (e *Engine) writeStage(ctx context.Context, tx storage.Tx, c *coffer.Caller, s *coffer.Secret, stage string, value coffer.Payload) error {
	stages := maps.Clone(s.Stages)
	if stages == nil {
		stages = map[string]uint32{}
	}
	v, err := e.addVersion(ctx, tx, c, s, coffer.VersionCreate{Data: value, CAS: ptr(s.LastRevision)})
	if err != nil {
		return err
	}
	stages[stage] = v.Revision
	s.Stages = stages
	return storageErr(tx.UpdateSecret(ctx, s), "secret", s.ID)
}

// WriteChain replaces the whole chain: previous, pending, then active, each
// as a new version; a stage without a value is removed.
func (e *Engine) WriteChain(ctx context.Context, id string, in coffer.SecretChain) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := validateChainValue("active", in.Active); err != nil {
		return nil, err
	}
	for name, v := range map[string]coffer.Payload{coffer.StagePrevious: in.Previous, coffer.StagePending: in.Pending} {
		if len(v) > 0 {
			if _, err := validateChainValue(name, v); err != nil {
				return nil, err
			}
		}
	}
	var s *coffer.Secret
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, actionWrite, id); err != nil {
			return err
		}
		for _, name := range []string{coffer.StagePrevious, coffer.StagePending, coffer.StageActive} {
			v := in.Stage(name)
			if len(v) == 0 {
				delete(s.Stages, name)
				continue
			}
			if err := e.writeStage(ctx, tx, c, s, name, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// WriteStage writes the value of one stage.
func (e *Engine) WriteStage(ctx context.Context, id, stage string, value coffer.Payload) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !coffer.ValidStage(stage) {
		return nil, coffer.Invalid("stage", coffer.ReasonConstraint, "stage must be previous, active or pending")
	}
	if _, err := validateChainValue("value", value); err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, actionWrite, id); err != nil {
			return err
		}
		return e.writeStage(ctx, tx, c, s, stage, value)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
