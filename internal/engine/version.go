package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/storage"
)

// resolveRevision turns a revision selector into a revision number.
// Returns ENOTFOUND when no version matches.
func resolveRevision(ctx context.Context, tx storage.Tx, s *coffer.Secret, rev coffer.Revision) (uint32, error) {
	switch rev.Kind {
	case coffer.RevisionNumber:
		if rev.Number == 0 {
			return 0, coffer.Invalid("revision", coffer.ReasonFormat, "revision must be a positive number, latest or latest_enabled")
		}
		return rev.Number, nil
	case coffer.RevisionLatest:
		if s.LatestRevision == 0 {
			return 0, coffer.NotFound("secret_version", "latest")
		}
		return currentRevision(ctx, tx, s)
	case coffer.RevisionLatestEnabled:
		vs, _, err := tx.ListVersions(ctx, s.ID, coffer.VersionFilter{
			States: []coffer.VersionState{coffer.VersionEnabled}, Descending: true, Limit: 1,
		})
		if err != nil {
			return 0, err
		}
		if len(vs) == 0 {
			return 0, coffer.NotFound("secret_version", "latest_enabled")
		}
		return vs[0].Revision, nil
	}
	return 0, coffer.Invalid("revision", coffer.ReasonFormat, "unknown revision selector")
}

// loadVersion reads a secret and one of its versions for the caller.
func (e *Engine) loadVersion(ctx context.Context, tx storage.Tx, c *coffer.Caller, action, secretID string, rev coffer.Revision) (*coffer.Secret, *storage.Version, error) {
	s, err := e.loadSecret(ctx, tx, c, action, secretID)
	if err != nil {
		return nil, nil, err
	}
	v, err := versionOf(ctx, tx, s, rev)
	if err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

// versionOf reads one version of s, a secret loaded for the caller.
func versionOf(ctx context.Context, tx storage.Tx, s *coffer.Secret, rev coffer.Revision) (*storage.Version, error) {
	n, err := resolveRevision(ctx, tx, s, rev)
	if err != nil {
		return nil, err
	}
	noteRevision(ctx, n)
	v, err := tx.GetVersion(ctx, s.ID, n)
	if err != nil {
		return nil, storageErr(err, "secret_version", fmt.Sprint(n))
	}
	v.Latest = v.Revision == s.LatestRevision
	return v, nil
}

// CreateVersion adds a version to a secret. With c.CreateSecret set and an
// empty secretID, the secret is found by its path, and created when missing.
func (e *Engine) CreateVersion(ctx context.Context, secretID string, in coffer.VersionCreate) (*coffer.Secret, *coffer.Version, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := e.checkVersionData(in); err != nil {
		return nil, nil, err
	}
	var newSecret *coffer.Secret
	if secretID == "" {
		if in.CreateSecret == nil {
			return nil, nil, coffer.Invalid("secret_id", coffer.ReasonRequired, "secret_id is required")
		}
		if newSecret, err = e.newSecret(withInferredType(*in.CreateSecret, in.Data)); err != nil {
			return nil, nil, err
		}
	}
	var (
		s *coffer.Secret
		v *storage.Version
		// raced is set when the secret to create was created meanwhile
		// by a concurrent transaction (on another node: on one node the
		// path lookup waits for it). The write is then retried, and adds
		// its version to that secret.
		raced bool
	)
	write := func(tx storage.Tx) error {
		raced = false
		if newSecret != nil {
			s, err = tx.GetSecretByPath(ctx, newSecret.ProjectID, newSecret.Path, newSecret.Name)
			if errors.Is(err, storage.ErrNotFound) {
				if err := e.insertSecret(ctx, tx, c, newSecret); err != nil {
					raced = coffer.ErrorCode(err) == coffer.ECONFLICT
					return err
				}
				s = newSecret
			} else if err != nil {
				return err
			} else if err := e.authorize(ctx, tx, c, actionWrite, s.ProjectID, s.Path); err != nil {
				if coffer.ErrorCode(err) == coffer.ENOTFOUND {
					return coffer.NotFound("secret", s.FullPath())
				}
				return err
			}
		} else if s, err = e.loadSecret(ctx, tx, c, actionWrite, secretID); err != nil {
			return err
		}
		v, err = e.addVersion(ctx, tx, c, s, in)
		return err
	}
	for attempt := 1; ; attempt++ {
		err = e.update(ctx, write)
		if !raced || attempt == 3 {
			break
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return s, &v.Version, nil
}

// addVersion writes a new version of s in tx, applying check-and-set,
// disable_previous, stages and max_versions pruning.
func (e *Engine) addVersion(ctx context.Context, tx storage.Tx, c *coffer.Caller, s *coffer.Secret, in coffer.VersionCreate) (*storage.Version, error) {
	if s.State == coffer.SecretDeletionScheduled {
		return nil, coffer.Precondition(coffer.PreconditionDeletion, "secret", s.ID, "the secret is scheduled for deletion: restore it first")
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	if err := validatePayload(s.Type, in.Data); err != nil {
		return nil, err
	}
	p, err := tx.GetProject(ctx, s.ProjectID)
	if err != nil {
		return nil, storageErr(err, "project", s.ProjectID)
	}
	if in.CAS == nil && (s.CASRequired || p.Settings.CASRequired) {
		return nil, coffer.Precondition(coffer.PreconditionCASRequired, "secret", s.ID, "check-and-set parameter required for this call")
	}
	if in.CAS != nil && *in.CAS != s.LastRevision {
		return nil, coffer.Precondition(coffer.PreconditionCASMismatch, "secret", s.ID, "check-and-set parameter did not match the current version")
	}
	now := e.Now()
	if in.DisablePrevious && s.LatestRevision != 0 {
		prev, err := tx.GetVersion(ctx, s.ID, s.LatestRevision)
		if err != nil {
			return nil, storageErr(err, "secret_version", fmt.Sprint(s.LatestRevision))
		}
		if prev.State == coffer.VersionEnabled {
			prev.State = coffer.VersionDisabled
			prev.DisabledAt = &now
			prev.UpdatedAt = now
			if err := tx.UpdateVersion(ctx, prev); err != nil {
				return nil, err
			}
		}
	}

	rev := s.LastRevision + 1
	if rev == 0 {
		return nil, coffer.Errorf(coffer.EQUOTA, "the secret has used every revision number")
	}
	v := &storage.Version{
		Version: coffer.Version{
			SecretID:    s.ID,
			Revision:    rev,
			State:       coffer.VersionEnabled,
			Description: in.Description,
			DataCRC32:   in.DataCRC32,
			Size:        len(in.Data),
			Ephemeral:   e.ephemeralProperties(s, p, now),
			CreatedBy:   c.Principal.ID,
			CreatedAt:   now,
			UpdatedAt:   now,
		},
		ProjectID: s.ProjectID,
	}
	ad := envelope.VersionAD(s.ProjectID, s.ID, rev)
	if v.Data, err = e.keyring.SealVersion(ctx, tx, s.ProjectID, s.KeyID, in.Data, ad); err != nil {
		return nil, fmt.Errorf("seal version: %w", err)
	}
	if err := tx.CreateVersion(ctx, v); err != nil {
		return nil, storageErr(err, "secret_version", fmt.Sprint(rev))
	}

	if s.Stages == nil {
		s.Stages = map[string]uint32{}
	}
	if active, ok := s.Stages[coffer.StageActive]; ok {
		s.Stages[coffer.StagePrevious] = active
	}
	s.Stages[coffer.StageActive] = rev
	noteRevision(ctx, rev)
	s.LastRevision = rev
	s.LatestRevision = rev
	s.VersionCount++
	if err := e.prune(ctx, tx, s, p); err != nil {
		return nil, err
	}
	if err := tx.UpdateSecret(ctx, s); err != nil {
		return nil, storageErr(err, "secret", s.ID)
	}
	v.Data = nil
	v.Latest = true
	return v, nil
}

// ephemeralProperties returns the expiry of a version written now: from the
// secret's ephemeral policy, else from its and its project's version TTLs
// (see versionTTL).
func (e *Engine) ephemeralProperties(s *coffer.Secret, p *coffer.Project, now time.Time) *coffer.EphemeralProperties {
	if pol := s.Ephemeral; pol != nil {
		ep := &coffer.EphemeralProperties{ExpiresOnceAccessed: pol.ExpiresOnceAccessed, Action: pol.Action}
		if pol.TTL > 0 {
			ep.ExpiresAt = ptr(now.Add(pol.TTL))
		}
		return ep
	}
	if ttl := versionTTL(s, p); ttl > 0 {
		return &coffer.EphemeralProperties{ExpiresAt: ptr(now.Add(ttl)), Action: coffer.EphemeralDisable}
	}
	return nil
}

// prune removes the oldest versions beyond the secret's max_versions.
func (e *Engine) prune(ctx context.Context, tx storage.Tx, s *coffer.Secret, p *coffer.Project) error {
	max := s.MaxVersions
	if max == 0 {
		max = p.Settings.MaxVersions
	}
	if max == 0 {
		max = coffer.DefaultMaxVersions
	}
	excess := s.VersionCount - max
	if excess <= 0 {
		return nil
	}
	// Revisions are assigned without gaps and only pruning deletes them,
	// oldest first: the oldest versions are those from OldestRevision on.
	// Delete them by number, and list them only if one is missing.
	first := s.OldestRevision
	if first == 0 {
		first = 1
	}
	for rev := first; excess > 0; rev++ {
		err := tx.DeleteVersion(ctx, s.ID, rev)
		if errors.Is(err, storage.ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
		s.VersionCount--
		s.OldestRevision = rev + 1
		excess--
	}
	if excess <= 0 {
		return nil
	}
	old, _, err := tx.ListVersions(ctx, s.ID, coffer.VersionFilter{Limit: excess})
	if err != nil {
		return err
	}
	for _, v := range old {
		if err := tx.DeleteVersion(ctx, s.ID, v.Revision); err != nil {
			return err
		}
		s.VersionCount--
		s.OldestRevision = v.Revision + 1
	}
	return nil
}

// GetVersion returns a version's metadata.
func (e *Engine) GetVersion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var v *storage.Version
	err = e.view(ctx, func(tx storage.Tx) error {
		_, v, err = e.loadVersion(ctx, tx, c, actionRead, secretID, rev)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &v.Version, nil
}

// ListVersions returns one page of a secret's versions and the total.
func (e *Engine) ListVersions(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*coffer.Version, int, error) {
	_, vs, total, err := e.listVersions(ctx, secretID, f, nil)
	return vs, total, err
}

// listVersions returns a secret and one page of its versions, read in one
// transaction, in which also runs more, when not nil.
func (e *Engine) listVersions(ctx context.Context, secretID string, f coffer.VersionFilter,
	more func(tx storage.Tx, c *coffer.Caller, s *coffer.Secret) error) (*coffer.Secret, []*coffer.Version, int, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	if f.Offset, f.Limit, err = e.page(f.Offset, f.Limit); err != nil {
		return nil, nil, 0, err
	}
	var (
		s     *coffer.Secret
		vs    []*storage.Version
		total int
	)
	err = e.view(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, actionRead, secretID); err != nil {
			return err
		}
		if vs, total, err = tx.ListVersions(ctx, secretID, f); err != nil {
			return err
		}
		for _, v := range vs {
			v.Latest = v.Revision == s.LatestRevision
		}
		if more != nil {
			return more(tx, c, s)
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	out := make([]*coffer.Version, len(vs))
	for i, v := range vs {
		out[i] = &v.Version
	}
	return s, out, total, nil
}

// UpdateVersion changes a version's description or ephemeral properties.
func (e *Engine) UpdateVersion(ctx context.Context, secretID string, rev coffer.Revision, u coffer.VersionUpdate) (*coffer.Version, error) {
	if u.Description != nil {
		if err := validateDescription(*u.Description); err != nil {
			return nil, err
		}
	}
	if ep := u.Ephemeral; ep != nil && ep.Action != "" && ep.Action != coffer.EphemeralDisable && ep.Action != coffer.EphemeralDelete {
		return nil, coffer.Invalid("ephemeral_properties.action", coffer.ReasonConstraint, "action must be disable or delete")
	}
	return e.changeVersion(ctx, secretID, rev, actionWrite, func(_ storage.Tx, _ *coffer.Secret, v *storage.Version, now time.Time) error {
		if v.State == coffer.VersionDestroyed {
			return coffer.Precondition(coffer.PreconditionVersionDestroyed, "secret_version", fmt.Sprint(v.Revision), "the version is destroyed")
		}
		if u.Description != nil {
			v.Description = *u.Description
		}
		if u.Ephemeral != nil {
			ep := *u.Ephemeral
			if ep.Action == "" {
				ep.Action = coffer.EphemeralDisable
			}
			v.Ephemeral = &ep
		}
		v.UpdatedAt = now
		return nil
	})
}

// changeVersion applies fn to a version of a secret that is not scheduled
// for deletion, in one transaction, and stores both.
func (e *Engine) changeVersion(ctx context.Context, secretID string, rev coffer.Revision, action string,
	fn func(tx storage.Tx, s *coffer.Secret, v *storage.Version, now time.Time) error) (*coffer.Version, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var v *storage.Version
	err = e.update(ctx, func(tx storage.Tx) error {
		var s *coffer.Secret
		if s, v, err = e.loadVersion(ctx, tx, c, action, secretID, rev); err != nil {
			return err
		}
		if s.State == coffer.SecretDeletionScheduled {
			return coffer.Precondition(coffer.PreconditionDeletion, "secret", s.ID, "the secret is scheduled for deletion: restore it first")
		}
		latest := s.LatestRevision
		if err := fn(tx, s, v, e.Now()); err != nil {
			return err
		}
		if err := tx.UpdateVersion(ctx, v); err != nil {
			return storageErr(err, "secret_version", fmt.Sprint(v.Revision))
		}
		if v.State == coffer.VersionDestroyed && v.Revision == latest {
			if err := refreshLatest(ctx, tx, s); err != nil {
				return err
			}
			if err := tx.UpdateSecret(ctx, s); err != nil {
				return storageErr(err, "secret", s.ID)
			}
		}
		v.Latest = v.Revision == s.LatestRevision
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.Data = nil
	return &v.Version, nil
}

// refreshLatest recomputes the secret's latest revision, the highest one
// that is not destroyed.
func refreshLatest(ctx context.Context, tx storage.Tx, s *coffer.Secret) error {
	vs, _, err := tx.ListVersions(ctx, s.ID, coffer.VersionFilter{
		States:     []coffer.VersionState{coffer.VersionEnabled, coffer.VersionDisabled, coffer.VersionScheduledForDeletion},
		Descending: true, Limit: 1,
	})
	if err != nil {
		return err
	}
	s.LatestRevision = 0
	if len(vs) > 0 {
		s.LatestRevision = vs[0].Revision
	}
	return nil
}

// EnableVersion makes a disabled version readable again. For a secret with
// an ephemeral policy, and for a version whose expiry has passed, the
// version's expiry is computed anew from now; enabling an enabled version
// whose expiry has passed (not yet applied) does the same.
func (e *Engine) EnableVersion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error) {
	return e.changeVersion(ctx, secretID, rev, actionWrite, func(tx storage.Tx, s *coffer.Secret, v *storage.Version, now time.Time) error {
		return e.enable(ctx, tx, s, v, now)
	})
}

// UndeleteVersion makes a version readable again whatever made it
// unreadable short of destruction: disabled, expired, or scheduled for
// deletion (through any dialect). It is Vault's undelete and OKMS's move to
// "active", in one transaction. Destroyed versions stay destroyed.
func (e *Engine) UndeleteVersion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error) {
	return e.changeVersion(ctx, secretID, rev, actionWrite, func(tx storage.Tx, s *coffer.Secret, v *storage.Version, now time.Time) error {
		if v.State == coffer.VersionScheduledForDeletion {
			restoreVersion(v)
		}
		return e.enable(ctx, tx, s, v, now)
	})
}

// enable makes a disabled version, or an enabled one whose expiry has
// passed, readable, and computes its expiry anew from now where it has one.
func (e *Engine) enable(ctx context.Context, tx storage.Tx, s *coffer.Secret, v *storage.Version, now time.Time) error {
	lapsed := expired(v, now)
	switch v.State {
	case coffer.VersionEnabled:
		if !lapsed {
			return nil
		}
	case coffer.VersionDisabled:
	default:
		return stateError(v, "enabled")
	}
	v.State = coffer.VersionEnabled
	v.DisabledAt = nil
	v.UpdatedAt = now
	if s.Ephemeral != nil || lapsed {
		p, err := tx.GetProject(ctx, s.ProjectID)
		if err != nil {
			return storageErr(err, "project", s.ProjectID)
		}
		v.Ephemeral = e.ephemeralProperties(s, p, now)
	}
	return nil
}

// DisableVersion makes a version unreadable until it is enabled again.
func (e *Engine) DisableVersion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error) {
	return e.changeVersion(ctx, secretID, rev, actionWrite, func(_ storage.Tx, _ *coffer.Secret, v *storage.Version, now time.Time) error {
		switch v.State {
		case coffer.VersionDisabled:
			return nil
		case coffer.VersionEnabled:
		default:
			return stateError(v, "disabled")
		}
		disable(v, now)
		return nil
	})
}

// ScheduleVersionDeletion schedules a version for deletion; it can be
// restored until it is purged.
func (e *Engine) ScheduleVersionDeletion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error) {
	return e.changeVersion(ctx, secretID, rev, actionDelete, func(_ storage.Tx, _ *coffer.Secret, v *storage.Version, now time.Time) error {
		switch v.State {
		case coffer.VersionScheduledForDeletion:
			return nil
		case coffer.VersionEnabled, coffer.VersionDisabled:
		default:
			return stateError(v, "scheduled for deletion")
		}
		v.StateBeforeDeletion = v.State
		v.State = coffer.VersionScheduledForDeletion
		v.DeletionRequestedAt = &now
		v.PurgeAt = ptr(now.Add(coffer.DeletionDelay))
		return nil
	})
}

// RestoreVersion takes a version scheduled for deletion back to the state
// it had.
func (e *Engine) RestoreVersion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error) {
	return e.changeVersion(ctx, secretID, rev, actionDelete, func(_ storage.Tx, _ *coffer.Secret, v *storage.Version, now time.Time) error {
		if v.State != coffer.VersionScheduledForDeletion {
			return coffer.Precondition("version_not_scheduled_for_deletion", "secret_version", fmt.Sprint(v.Revision), "the version is not scheduled for deletion")
		}
		restoreVersion(v)
		return nil
	})
}

// DestroyVersion erases a version's data for good. Destroying a destroyed
// version does nothing.
func (e *Engine) DestroyVersion(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error) {
	return e.changeVersion(ctx, secretID, rev, actionDelete, func(_ storage.Tx, _ *coffer.Secret, v *storage.Version, now time.Time) error {
		if v.State != coffer.VersionDestroyed {
			destroy(v, now)
		}
		return nil
	})
}

func restoreVersion(v *storage.Version) {
	v.State = v.StateBeforeDeletion
	if v.State == "" || v.State == coffer.VersionScheduledForDeletion {
		v.State = coffer.VersionEnabled
	}
	v.StateBeforeDeletion = ""
	v.DeletionRequestedAt = nil
	v.PurgeAt = nil
}

func disable(v *storage.Version, now time.Time) {
	v.State = coffer.VersionDisabled
	v.DisabledAt = &now
	v.UpdatedAt = now
}

func destroy(v *storage.Version, now time.Time) {
	clear(v.Data)
	v.Data = nil
	v.State = coffer.VersionDestroyed
	v.DestroyedAt = &now
	v.PurgeAt = nil
}

func stateError(v *storage.Version, want string) error {
	return coffer.Precondition("version_"+string(v.State), "secret_version", fmt.Sprint(v.Revision),
		fmt.Sprintf("a version that is %s cannot be %s", humanState(v.State), want))
}

func humanState(s coffer.VersionState) string {
	if s == coffer.VersionScheduledForDeletion {
		return "scheduled for deletion"
	}
	return string(s)
}
