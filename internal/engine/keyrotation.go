package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Rotating a protection key never stops reads or writes. The rotation adds
// a version to the key, in one transaction with the record of the rotation
// (storage.KeyRotation): from its commit, every version written is sealed
// under the new key version, and every version sealed before still opens,
// since a ciphertext names its key version. The key-rewrap job then walks
// the project's versions in the order of their primary key, in batches of
// one transaction each, and re-wraps each data key wrapped under an older
// version of the key (the 60 bytes of the wrapped data key; the data is not
// touched). Each batch commits its re-wraps, the position it reached and
// its audit record together, so that a crash loses nothing and repeats
// nothing: the next run, on whichever node holds the jobs lease, resumes
// where the last commit left.
//
// A re-wrap replaces a version's data only if it is still what the batch
// read (storage.KeyRotationTx.RewrapVersionData), so a version written,
// destroyed or moved to another key meanwhile is left as the writer left
// it; and a writer on another node that read the key's latest version just
// before the rotation committed may still commit a version sealed under the
// old one. So a pass that re-wrapped something is followed by another, and
// the rotation is complete after a whole pass that found nothing to
// re-wrap. Then no data key of the project is wrapped under an older
// version of the key: those versions open nothing the store holds.

// JobKeyRewrap names the re-wrap job in the audit trail.
const JobKeyRewrap = "key-rewrap"

// Defaults of the re-wrap job.
const (
	// DefaultRewrapBatch is how many versions one batch transaction
	// examines.
	DefaultRewrapBatch = 100
	// rewrapRunBudget bounds how long one run of the job goes on, so that
	// the other jobs, which run after it, are not held up for long; the
	// next run carries on. It is measured on the system clock, not the
	// engine's (which dates records and may be a test's frozen clock).
	rewrapRunBudget = 5 * time.Second
)

var _ coffer.KeyRotationService = (*Engine)(nil)

// RotateProtectionKey adds a version to a protection key and starts the
// re-wrap of its data keys.
func (e *Engine) RotateProtectionKey(ctx context.Context, projectID, keyID string) (*coffer.KeyRotation, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateID("project_id", projectID); err != nil {
		return nil, err
	}
	if keyID != "" {
		if err := validateID("key_id", keyID); err != nil {
			return nil, err
		}
	}
	var r *storage.KeyRotation
	err = e.update(ctx, func(tx storage.Tx) error {
		if err := e.authorize(ctx, tx, c, actionKeys, projectID, "/"); err != nil {
			return err
		}
		kt, err := keyRotationTx(tx)
		if err != nil {
			return err
		}
		var key *storage.Key
		if keyID == "" {
			if key, err = e.keyring.EnsureDefaultKey(ctx, tx, projectID); err != nil {
				return err
			}
		} else {
			key, err = tx.GetKey(ctx, keyID)
			if errors.Is(err, storage.ErrNotFound) || err == nil && key.ProjectID != projectID {
				return coffer.NotFound("key", keyID)
			} else if err != nil {
				return err
			}
		}
		prev, err := kt.GetKeyRotation(ctx, key.ID)
		switch {
		case err == nil && prev.CompletedAt == nil:
			return coffer.Precondition("key_rewrapping", "key", key.ID,
				fmt.Sprintf("the data keys of key %s are being re-wrapped to its version %d: rotate it again once that is complete", key.ID, prev.ToVersion))
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return err
		}
		v, err := e.keyring.RotateKey(ctx, tx, key.ID)
		if err != nil {
			return err
		}
		total, err := kt.CountVersionData(ctx, projectID)
		if err != nil {
			return err
		}
		now := e.Now()
		r = &storage.KeyRotation{KeyID: key.ID, ProjectID: projectID, ToVersion: v.Version, Pass: 1,
			Total: total, StartedAt: now, UpdatedAt: now}
		return kt.PutKeyRotation(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return keyRotation(r), nil
}

// ListKeyRotations returns the last rotation of each rotated key of a
// project.
func (e *Engine) ListKeyRotations(ctx context.Context, projectID string) ([]*coffer.KeyRotation, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateID("project_id", projectID); err != nil {
		return nil, err
	}
	var rs []*storage.KeyRotation
	err = e.view(ctx, func(tx storage.Tx) error {
		if err := e.authorize(ctx, tx, c, actionKeys, projectID, "/"); err != nil {
			return err
		}
		kt, err := keyRotationTx(tx)
		if err != nil {
			return err
		}
		rs, err = kt.ListKeyRotations(ctx, []string{projectID}, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]*coffer.KeyRotation, 0, len(rs))
	for _, r := range rs {
		out = append(out, keyRotation(r))
	}
	return out, nil
}

// RunKeyRewrap re-wraps, batch after batch, the data keys of the rotations
// under way, for at most a few seconds, and returns how many it re-wrapped.
// Each batch is one transaction that first checks the lease term f.
func (e *Engine) RunKeyRewrap(ctx context.Context, f Fence) (int, error) {
	var open []*storage.KeyRotation
	err := e.view(ctx, func(tx storage.Tx) error {
		kt, ok := tx.(storage.KeyRotationTx)
		if !ok {
			return nil
		}
		var err error
		open, err = kt.ListKeyRotations(ctx, nil, true)
		return err
	})
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(rewrapRunBudget)
	done := 0
	for _, r := range open {
		for {
			n, complete, err := e.rewrapBatch(ctx, f, r.KeyID)
			done += n
			if err != nil {
				return done, err
			}
			if complete {
				break
			}
			if ctx.Err() != nil || time.Now().After(deadline) {
				return done, ctx.Err()
			}
		}
	}
	return done, nil
}

// rewrapBatch runs one batch of the rotation of key keyID and reports how
// many data keys it re-wrapped and whether the rotation is complete.
func (e *Engine) rewrapBatch(ctx context.Context, f Fence, keyID string) (n int, complete bool, err error) {
	var rec *coffer.AuditRecord
	err = e.fenced(ctx, f, func(tx storage.Tx) error {
		n, complete, rec = 0, false, nil
		kt, err := keyRotationTx(tx)
		if err != nil {
			return err
		}
		r, err := kt.GetKeyRotation(ctx, keyID)
		if err != nil {
			return err
		}
		if r.CompletedAt != nil {
			complete = true
			return nil
		}
		vs, err := kt.ScanVersionData(ctx, r.ProjectID, r.AfterSecret, r.AfterRevision, e.rewrapBatchSize)
		if err != nil {
			return err
		}
		for _, v := range vs {
			r.Scanned++
			ok, err := e.rewrapVersion(ctx, tx, kt, r, v)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		r.Rewrapped += int64(n)
		r.PassRewrapped += int64(n)
		now := e.Now()
		action := "batch"
		switch {
		case len(vs) == e.rewrapBatchSize:
			last := vs[len(vs)-1]
			r.AfterSecret, r.AfterRevision = last.SecretID, last.Revision
		case r.PassRewrapped == 0:
			r.CompletedAt = &now
			complete = true
			action = "complete"
		default:
			// The end of a pass that re-wrapped something: look again.
			r.Pass++
			r.PassRewrapped = 0
			r.AfterSecret, r.AfterRevision = "", 0
		}
		r.UpdatedAt = now
		if err := kt.PutKeyRotation(ctx, r); err != nil {
			return err
		}
		rec, err = e.keyJobRecord(ctx, tx, action, r)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if rec != nil {
		if err := e.writeJobRecord(ctx, rec); err != nil {
			return n, complete, err
		}
	}
	return n, complete, nil
}

// rewrapVersion re-wraps the data key of v if an older version of r's key
// wrapped it, and reports whether it did. A version whose data changed
// since it was read is left alone: the next pass looks at it again. A
// version whose data does not open is logged and left as it is, so that
// one damaged row does not stop the rotation; it counts as scanned.
func (e *Engine) rewrapVersion(ctx context.Context, tx storage.Tx, kt storage.KeyRotationTx, r *storage.KeyRotation, v *storage.Version) (bool, error) {
	keyID, version, err := envelope.ParseHeader(v.Data)
	if err != nil {
		e.log.WarnContext(ctx, "key rotation: a version's data is not a ciphertext; left as it is",
			"key_id", r.KeyID, "secret_id", v.SecretID, "revision", v.Revision, "error", err)
		return false, nil
	}
	if keyID != r.KeyID || version >= r.ToVersion {
		return false, nil
	}
	ad := envelope.VersionAD(v.ProjectID, v.SecretID, v.Revision)
	data, err := e.keyring.Rewrap(ctx, tx, v.Data, ad)
	if errors.Is(err, envelope.ErrIntegrity) || errors.Is(err, envelope.ErrMalformed) {
		e.log.WarnContext(ctx, "key rotation: a version's data key does not open; left as it is",
			"key_id", r.KeyID, "secret_id", v.SecretID, "revision", v.Revision, "error", err)
		return false, nil
	} else if err != nil {
		return false, err
	}
	err = kt.RewrapVersionData(ctx, v.SecretID, v.Revision, v.Data, data)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// keyJobRecord writes, as pending in tx, the record of a step of the
// re-wrap job: "key-rewrap batch key ID version N" or "key-rewrap complete
// ...", in the key's project.
func (e *Engine) keyJobRecord(ctx context.Context, tx storage.Tx, step string, r *storage.KeyRotation) (*coffer.AuditRecord, error) {
	if e.audit == nil {
		return nil, nil
	}
	org, err := e.projectOrganization(ctx, tx, r.ProjectID)
	if err != nil {
		return nil, err
	}
	rec := &coffer.AuditRecord{
		Time: e.Now(), OrganizationID: org, PrincipalID: SystemPrincipal, ProjectID: r.ProjectID,
		Dialect: SystemPrincipal,
		Action:  JobKeyRewrap + " " + step + " key " + r.KeyID + " version " + strconv.FormatUint(uint64(r.ToVersion), 10),
		Outcome: coffer.AuditOK, Status: 200, RequestID: coffer.NewRequestID(),
	}
	if err := audit.PutPending(ctx, tx, rec, rec.Time); err != nil {
		return nil, err
	}
	rec.Staged = coffer.StagedYes
	return rec, nil
}

// keyRotationTx returns tx as a KeyRotationTx, or EUNAVAILABLE.
func keyRotationTx(tx storage.Tx) (storage.KeyRotationTx, error) {
	kt, ok := tx.(storage.KeyRotationTx)
	if !ok {
		return nil, coffer.Errorf(coffer.EUNAVAILABLE, "this store does not rotate keys")
	}
	return kt, nil
}

// keyRotation is the domain view of a stored rotation.
func keyRotation(r *storage.KeyRotation) *coffer.KeyRotation {
	out := &coffer.KeyRotation{
		KeyID: r.KeyID, ProjectID: r.ProjectID, Version: r.ToVersion, State: coffer.KeyRotationRewrapping,
		Pass: r.Pass, Scanned: r.Scanned, Rewrapped: r.Rewrapped, Total: r.Total,
		StartedAt: r.StartedAt, UpdatedAt: r.UpdatedAt, CompletedAt: r.CompletedAt,
	}
	if r.CompletedAt != nil {
		out.State = coffer.KeyRotationComplete
	}
	return out
}
