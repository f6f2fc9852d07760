package engine

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/exportfile"
	"github.com/coffer-dev/coffer/internal/storage"
)

// maxImportSecretData bounds the values of one secret, all versions
// together, that an import holds in memory while it writes the secret.
const maxImportSecretData = 64 << 20

// incoming is one secret of a file, with its versions and their values.
type incoming struct {
	secret   *exportfile.Secret
	versions []*exportfile.Version
}

func (in *incoming) wipe() {
	for _, v := range in.versions {
		clear(v.Data)
	}
}

// Import writes the secrets of an export file, each in a transaction of its
// own, with its versions in order under their revisions. It reads the file
// twice: first to check it whole (every chunk, every frame, every secret)
// and to find conflicts, so that a damaged file, one for another key, or,
// under ConflictFail, one with a conflict writes nothing; then to write.
//
// A secret of the file whose id, or path and name, is taken on the target
// is unchanged when the target's secret is the same (metadata, policies,
// versions and values), which is what makes a second import of a file do
// nothing; otherwise it conflicts, and OnConflict decides. Overwriting
// replaces the target's secret with the file's, in one transaction, and
// needs the right to delete it; a protected secret, or one with the same id
// in another project, is never overwritten. Each secret written gets an
// audit record of its own (action "import secret", or "import secret
// overwrite"), committed with it.
func (e *Engine) Import(ctx context.Context, req coffer.ImportRequest, r io.ReadSeeker) (*coffer.ImportResult, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	switch req.OnConflict {
	case "":
		req.OnConflict = coffer.ConflictFail
	case coffer.ConflictFail, coffer.ConflictSkip, coffer.ConflictOverwrite:
	default:
		return nil, coffer.Invalid("on_conflict", coffer.ReasonConstraint, "on_conflict must be fail, skip or overwrite")
	}
	if req.ProjectID != "" {
		if err := validateID("project_id", req.ProjectID); err != nil {
			return nil, err
		}
	}
	var priv *ecdh.PrivateKey
	open := func() (*exportfile.Reader, error) {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		h, err := exportfile.ReadHeader(r)
		if err != nil {
			return nil, coffer.Invalid("file", coffer.ReasonFormat, "the file is not a coffer export file, or of a format this version does not read")
		}
		var fr *exportfile.Reader
		switch h.Kind {
		case exportfile.KindX25519:
			if priv == nil {
				if priv, err = e.exportPrivateKey(ctx); err != nil {
					return nil, err
				}
			}
			fr, err = h.OpenX25519(r, priv)
		default:
			if len(req.PassphraseKey) == 0 {
				return nil, coffer.Invalid("passphrase", coffer.ReasonRequired, "the file is encrypted to a passphrase: give it")
			}
			fr, err = h.OpenPassphrase(r, req.PassphraseKey)
		}
		if errors.Is(err, exportfile.ErrWrongKey) {
			return nil, coffer.Invalid("file", coffer.ReasonConstraint, "the file is not encrypted to this instance's export key or to this passphrase")
		}
		return fr, err
	}

	// First pass: the whole file, and its conflicts.
	var (
		conflicts int
		first     string
	)
	ids, paths := map[string]bool{}, map[string]bool{}
	err = e.readFile(open, func(in *incoming) error {
		s, vs, err := e.importedSecret(in, req)
		if err != nil {
			return err
		}
		defer wipeVersions(vs)
		// Two secrets of one place: of one project of the file, or of any
		// when every secret goes to one project.
		place := in.secret.ProjectName
		if req.ProjectID != "" {
			place = ""
		}
		key := place + "\x00" + s.Path + "\x00" + s.Name
		if ids[in.secret.ID] || paths[key] {
			return coffer.Invalid("file", coffer.ReasonConstraint, fmt.Sprintf("the file holds secret %s twice", s.FullPath()))
		}
		ids[in.secret.ID], paths[key] = true, true
		return e.view(ctx, func(tx storage.Tx) error {
			d, _, err := e.placeImported(ctx, tx, c, req, in, s, vs)
			if d == dispConflict {
				if conflicts++; first == "" {
					first = s.FullPath()
				}
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if conflicts > 0 && req.OnConflict == coffer.ConflictFail {
		return nil, &coffer.Error{Code: coffer.ECONFLICT, Resource: "secret", ResourceID: first, Message: fmt.Sprintf(
			"%d secrets of the file conflict with secrets of this instance (the first: %s): nothing was imported; import with on_conflict skip or overwrite",
			conflicts, first)}
	}

	// Second pass: write.
	res := &coffer.ImportResult{}
	reqID := coffer.RequestIDFromContext(ctx)
	err = e.readFile(open, func(in *incoming) error {
		s, vs, err := e.importedSecret(in, req)
		if err != nil {
			return err
		}
		defer wipeVersions(vs)
		res.Secrets++
		var (
			d   disposition
			rec *coffer.AuditRecord
		)
		// What is there already, or is to be left alone, is found in a
		// read transaction; only a write takes a write transaction, which
		// looks again under the secrets' locks.
		err = e.view(ctx, func(tx storage.Tx) error {
			d, _, err = e.placeImported(ctx, tx, c, req, in, s, vs)
			return err
		})
		if leave := d == dispUnchanged || d == dispConflict && req.OnConflict == coffer.ConflictSkip; err == nil && !leave {
			err = e.update(ctx, func(tx storage.Tx) error {
				rec = nil
				var existing []*coffer.Secret
				if d, existing, err = e.placeImported(ctx, tx, c, req, in, s, vs); err != nil {
					return err
				}
				return e.writeDisposed(ctx, tx, c, req, s, vs, d, existing, reqID+"."+strconv.Itoa(res.Secrets), &rec)
			})
		}
		if err != nil {
			return err
		}
		switch {
		case d == dispNew:
			res.Created++
			res.Versions += len(vs)
		case d == dispUnchanged:
			res.Unchanged++
		case req.OnConflict == coffer.ConflictSkip:
			res.Skipped++
		default:
			res.Overwritten++
			res.Versions += len(vs)
		}
		if rec != nil {
			if err := e.audit(context.WithoutCancel(ctx), rec); err != nil {
				return fmt.Errorf("audit record of the import of secret %s: %w", s.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// placeImported finds the target project of a secret of the file, checks
// that the caller may write there, and classifies it.
func (e *Engine) placeImported(ctx context.Context, tx storage.Tx, c *coffer.Caller, req coffer.ImportRequest, in *incoming, s *coffer.Secret, vs []*storage.Version) (disposition, []*coffer.Secret, error) {
	var err error
	if s.ProjectID, err = e.importProject(ctx, tx, c, req, in.secret.ProjectName); err != nil {
		return 0, nil, err
	}
	if err := e.authorize(ctx, tx, c, actionWrite, s.ProjectID, s.Path); err != nil {
		return 0, nil, err
	}
	return e.classify(ctx, tx, c, req, s, vs)
}

// writeDisposed writes, in tx, a secret of the file as its disposition d
// and the request's policy say, with its audit record, whose request id is
// recID, staged in tx; *rec is set to that record.
func (e *Engine) writeDisposed(ctx context.Context, tx storage.Tx, c *coffer.Caller, req coffer.ImportRequest,
	s *coffer.Secret, vs []*storage.Version, d disposition, existing []*coffer.Secret, recID string, rec **coffer.AuditRecord) error {
	action := auditImport
	switch {
	case d == dispUnchanged:
		return nil
	case d == dispConflict && req.OnConflict == coffer.ConflictSkip:
		return nil
	case d == dispConflict && req.OnConflict == coffer.ConflictFail:
		return &coffer.Error{Code: coffer.ECONFLICT, Resource: "secret", ResourceID: s.FullPath(),
			Message: fmt.Sprintf("secret %s was changed on this instance during the import", s.FullPath())}
	case d == dispConflict:
		action = auditImportOverwrite
		if err := e.replace(ctx, tx, c, s, existing); err != nil {
			return err
		}
	}
	if req.NewIDs {
		s.ID = uuid.NewString()
	}
	if err := e.writeImported(ctx, tx, c, s, vs); err != nil {
		return err
	}
	if r := e.secretRecord(ctx, action, s, recID); r != nil {
		if err := audit.PutPending(ctx, tx, r, r.Time); err != nil {
			return err
		}
		r.Staged = coffer.StagedYes
		*rec = r
	}
	return nil
}

// readFile opens the file and hands each secret, with its versions, to fn,
// after a manifest of format 1 and before an end frame that counts what the
// file held; anything else in the stream is a damaged file.
func (e *Engine) readFile(open func() (*exportfile.Reader, error), fn func(*incoming) error) error {
	fr, err := open()
	if err != nil {
		return err
	}
	defer fr.Close()
	damaged := coffer.Invalid("file", coffer.ReasonConstraint, "the file is damaged or incomplete")
	next := func() (*exportfile.Frame, error) {
		f, err := fr.Decode()
		if err == io.EOF || errors.Is(err, exportfile.ErrDamaged) {
			return nil, damaged
		}
		return f, err
	}
	f, err := next()
	if err != nil {
		return err
	}
	if f.Kind != exportfile.KindManifest || f.Manifest.Format != exportfile.Format1 {
		return damaged
	}
	secrets, versions := 0, 0
	for {
		f, err := next()
		if err != nil {
			return err
		}
		switch f.Kind {
		case exportfile.KindSecret:
			in := &incoming{secret: f.Secret}
			if n := f.Secret.Versions; n < 0 || n > 1<<20 {
				return damaged
			}
			size := 0
			for range f.Secret.Versions {
				vf, err := next()
				if err != nil {
					in.wipe()
					return err
				}
				if vf.Kind != exportfile.KindVersion {
					in.wipe()
					return damaged
				}
				if size += len(vf.Version.Data); size > maxImportSecretData {
					in.wipe()
					clear(vf.Version.Data)
					return coffer.Invalid("file", coffer.ReasonConstraint, fmt.Sprintf(
						"the values of secret %s are larger than %d bytes in all", f.Secret.ID, maxImportSecretData))
				}
				in.versions = append(in.versions, vf.Version)
			}
			err := fn(in)
			in.wipe()
			if err != nil {
				return err
			}
			secrets++
			versions += len(in.versions)
		case exportfile.KindEnd:
			if f.End.Secrets != secrets || f.End.Versions != versions {
				return damaged
			}
			if _, err := fr.ReadFrame(); err != io.EOF {
				return damaged
			}
			return nil
		default:
			return damaged
		}
	}
}

// importedSecret checks a secret of a file and returns it as it is to be
// written (its project is set later), with its versions, each with its
// value in Data. The file is as untrusted as any request.
func (e *Engine) importedSecret(in *incoming, req coffer.ImportRequest) (*coffer.Secret, []*storage.Version, error) {
	f := in.secret
	bad := func(format string, args ...any) error {
		return coffer.Invalid("file", coffer.ReasonConstraint, "secret "+truncate(f.ID, 64)+" of the file: "+fmt.Sprintf(format, args...))
	}
	if err := validateID("id", f.ID); err != nil {
		return nil, nil, bad("its id is not a UUID")
	}
	var ephemeral *coffer.EphemeralPolicy
	if p := f.Ephemeral; p != nil {
		ephemeral = &coffer.EphemeralPolicy{TTL: p.TTL, ExpiresOnceAccessed: p.ExpiresOnceAccessed, Action: coffer.EphemeralAction(p.Action)}
	}
	s, err := e.newSecret(coffer.SecretCreate{
		ProjectID: uuid.Nil.String(), Path: f.Path, Name: f.Name, Type: coffer.SecretType(f.Type),
		Description: f.Description, Tags: f.Tags, Protected: f.Protected, CustomMetadata: f.CustomMetadata,
		MaxVersions: f.MaxVersions, CASRequired: f.CASRequired, VersionTTL: f.VersionTTL, Ephemeral: ephemeral,
	})
	if err != nil {
		return nil, nil, bad("%s", coffer.ErrorMessage(err))
	}
	s.ID = f.ID
	if len(f.UsedBy) > 64 {
		return nil, nil, bad("more than 64 owners")
	}
	for _, p := range f.UsedBy {
		if p == "" || len(p) > 64 || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return nil, nil, bad("an owner that is not a product name")
		}
	}
	s.UsedBy = append([]string{}, f.UsedBy...)
	switch st := coffer.SecretState(f.State); st {
	case coffer.SecretEnabled, coffer.SecretDisabled, coffer.SecretDeletionScheduled:
		s.State = st
	default:
		return nil, nil, bad("unknown state %q", truncate(f.State, 32))
	}
	s.DeletionRequestedAt, s.PurgeAt = f.DeletionRequestedAt, f.PurgeAt
	if s.State == coffer.SecretDeletionScheduled && s.PurgeAt == nil {
		return nil, nil, bad("scheduled for deletion without a date")
	}
	if r := f.Rotation; r != nil {
		if r.Period < 0 {
			return nil, nil, bad("a negative rotation period")
		}
		if len(r.Targets) > 64 || slices.ContainsFunc(r.Targets, func(t string) bool { return t == "" || len(t) > maxNameLen }) {
			return nil, nil, bad("rotation targets that are not field names")
		}
		s.Rotation = &coffer.RotationPolicy{Enabled: r.Enabled, Period: r.Period, NextRunAt: r.NextRunAt,
			Targets: r.Targets, LastRunAt: r.LastRunAt}
	}
	s.LastRevision, s.LatestRevision, s.OldestRevision, s.VersionCount = f.LastRevision, f.LatestRevision, f.OldestRevision, f.VersionCount
	for k, v := range f.Stages {
		if k == "" || len(k) > 64 || v == 0 || v > f.LastRevision {
			return nil, nil, bad("a stage that names no revision")
		}
		s.Stages[k] = v
	}
	if f.LatestRevision > f.LastRevision || f.OldestRevision > f.LastRevision || f.VersionCount < 0 || f.VersionCount > len(in.versions) {
		return nil, nil, bad("revisions that do not add up")
	}
	s.CreatedAt, s.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()

	vs := make([]*storage.Version, 0, len(in.versions))
	var prev uint32
	for _, fv := range in.versions {
		if fv.Revision <= prev || fv.Revision > f.LastRevision {
			wipeVersions(vs)
			return nil, nil, bad("revisions out of order")
		}
		prev = fv.Revision
		v, err := e.importedVersion(s, fv)
		if err != nil {
			wipeVersions(vs)
			return nil, nil, bad("version %d: %s", fv.Revision, err)
		}
		vs = append(vs, v)
	}
	if req.NewIDs {
		s.ID = ""
	}
	return s, vs, nil
}

// importedVersion checks a version of a file and returns it, with a copy
// of its value in Data (nil for a destroyed version).
func (e *Engine) importedVersion(s *coffer.Secret, f *exportfile.Version) (*storage.Version, error) {
	v := &storage.Version{Version: coffer.Version{
		Revision: f.Revision, State: coffer.VersionState(f.State), StateBeforeDeletion: coffer.VersionState(f.StateBeforeDeletion),
		Description: f.Description, DataCRC32: f.DataCRC32, Size: f.Size,
		DisabledAt: f.DisabledAt, DeletionRequestedAt: f.DeletionRequestedAt, PurgeAt: f.PurgeAt, DestroyedAt: f.DestroyedAt,
		CreatedBy: f.CreatedBy, CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC(),
	}}
	if err := validateDescription(f.Description); err != nil {
		return nil, errors.New(coffer.ErrorMessage(err))
	}
	if len(f.CreatedBy) > 256 {
		return nil, errors.New("its author is longer than 256 bytes")
	}
	switch v.State {
	case coffer.VersionEnabled, coffer.VersionDisabled, coffer.VersionScheduledForDeletion:
		if f.Data == nil && f.Size != 0 {
			// (An empty value has no data in the file either.)
			return nil, errors.New("no value")
		}
		if len(f.Data) > e.limits.MaxPayloadSize {
			return nil, fmt.Errorf("a value larger than %d bytes", e.limits.MaxPayloadSize)
		}
		if f.Size != len(f.Data) {
			return nil, errors.New("a size that is not its value's")
		}
		if f.DataCRC32 != nil && crc32.ChecksumIEEE(f.Data) != *f.DataCRC32 {
			return nil, errors.New("a CRC32 that is not its value's")
		}
		v.Data = append([]byte{}, f.Data...)
		v.Size = len(v.Data)
	case coffer.VersionDestroyed:
		if f.Data != nil {
			return nil, errors.New("destroyed, with a value")
		}
	default:
		return nil, fmt.Errorf("unknown state %q", truncate(f.State, 32))
	}
	switch v.StateBeforeDeletion {
	case "", coffer.VersionEnabled, coffer.VersionDisabled:
	default:
		return nil, errors.New("an unknown state before deletion")
	}
	if v.State == coffer.VersionScheduledForDeletion && v.PurgeAt == nil {
		return nil, errors.New("scheduled for deletion without a date")
	}
	if p := f.Ephemeral; p != nil {
		switch a := coffer.EphemeralAction(p.Action); a {
		case coffer.EphemeralDisable, coffer.EphemeralDelete:
			v.Ephemeral = &coffer.EphemeralProperties{ExpiresAt: p.ExpiresAt, ExpiresOnceAccessed: p.ExpiresOnceAccessed, Action: a}
		default:
			return nil, errors.New("an unknown ephemeral action")
		}
	}
	return v, nil
}

func wipeVersions(vs []*storage.Version) {
	for _, v := range vs {
		clear(v.Data)
	}
}

// importProject returns the project a secret of the file goes to: the
// one the request names, else the caller's organization's project of the
// name its project had.
func (e *Engine) importProject(ctx context.Context, tx storage.Tx, c *coffer.Caller, req coffer.ImportRequest, name string) (string, error) {
	if req.ProjectID != "" {
		return req.ProjectID, nil
	}
	projects, err := tx.ListProjects(ctx, c.Principal.OrganizationID)
	if err != nil {
		return "", err
	}
	for _, p := range projects {
		if p.Name == name {
			return p.ID, nil
		}
	}
	return "", &coffer.Error{Code: coffer.ENOTFOUND, Resource: "project", ResourceID: truncate(name, 64), Message: fmt.Sprintf(
		"no project named %q in your organization: create it, or import into one project with project_id", truncate(name, 64))}
}

// disposition is what an import finds of a secret of the file on the
// target.
type disposition int

const (
	dispNew       disposition = iota // neither its id nor its path is taken
	dispUnchanged                    // the target holds the same secret
	dispConflict                     // the target holds another at its id or path
)

// classify finds the target's secrets at s's id and path (s.ID is "" with
// new ids) and compares them with s and its versions; a secret whose values
// the caller may not read is never compared, and conflicts. For a conflict it
// returns the secrets an overwrite replaces; one with s's id in another
// project makes an overwrite impossible (ECONFLICT).
func (e *Engine) classify(ctx context.Context, tx storage.Tx, c *coffer.Caller, req coffer.ImportRequest, s *coffer.Secret, vs []*storage.Version) (disposition, []*coffer.Secret, error) {
	var byID *coffer.Secret
	if s.ID != "" {
		got, err := tx.GetSecret(ctx, s.ID)
		if err == nil {
			byID = got
		} else if !errors.Is(err, storage.ErrNotFound) {
			return 0, nil, err
		}
	}
	byPath, err := tx.GetSecretByPath(ctx, s.ProjectID, s.Path, s.Name)
	if errors.Is(err, storage.ErrNotFound) {
		byPath = nil
	} else if err != nil {
		return 0, nil, err
	}
	switch {
	case byID == nil && byPath == nil:
		return dispNew, nil, nil
	case byID != nil && byID.ProjectID != s.ProjectID:
		if req.OnConflict == coffer.ConflictOverwrite {
			return 0, nil, &coffer.Error{Code: coffer.ECONFLICT, Resource: "secret", ResourceID: s.ID, Message: fmt.Sprintf(
				"the id of secret %s is taken by a secret of another project: import with new ids", s.FullPath())}
		}
		return dispConflict, nil, nil
	case byID != nil && byPath != nil && byID.ID != byPath.ID:
		return dispConflict, []*coffer.Secret{byID, byPath}, nil
	}
	existing := byID
	if existing == nil {
		existing = byPath
		if !req.NewIDs {
			// The path is another secret's.
			return dispConflict, []*coffer.Secret{existing}, nil
		}
	}
	// Comparing tells whether the values are the file's: only to a caller
	// that may read them.
	if err := e.authorize(ctx, tx, c, actionAccess, existing.ProjectID, existing.Path); err != nil {
		if code := coffer.ErrorCode(err); code == coffer.ENOTFOUND || code == coffer.EFORBIDDEN {
			return dispConflict, []*coffer.Secret{existing}, nil
		}
		return 0, nil, err
	}
	same, err := e.sameSecret(ctx, tx, existing, s, vs)
	if err != nil {
		return 0, nil, err
	}
	if same {
		return dispUnchanged, nil, nil
	}
	return dispConflict, []*coffer.Secret{existing}, nil
}

// sameSecret reports whether the target's secret t holds what the file's s
// and vs would write: metadata, policies, state, every version and every
// value (compared in constant time). Ids are compared only when s has one.
func (e *Engine) sameSecret(ctx context.Context, tx storage.Tx, t, s *coffer.Secret, vs []*storage.Version) (bool, error) {
	a, b := secretFrame(t), secretFrame(s)
	if s.ID == "" {
		a.ID = ""
	}
	a.ProjectID, b.ProjectID = "", ""
	if !sameJSON(a, b) {
		return false, nil
	}
	tvs, _, err := tx.ListVersions(ctx, t.ID, coffer.VersionFilter{})
	if err != nil {
		return false, err
	}
	if len(tvs) != len(vs) {
		return false, nil
	}
	for i, tv := range tvs {
		if !sameJSON(versionFrame(&tv.Version), versionFrame(&vs[i].Version)) {
			return false, nil
		}
		if tv.State == coffer.VersionDestroyed {
			continue
		}
		full, err := tx.GetVersion(ctx, t.ID, tv.Revision)
		if err != nil {
			return false, err
		}
		data, err := e.open(ctx, tx, t, full)
		if err != nil {
			return false, err
		}
		same := len(data) == len(vs[i].Data) && subtle.ConstantTimeCompare(data, vs[i].Data) == 1
		data.Wipe()
		if !same {
			return false, nil
		}
	}
	return true, nil
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// replace deletes the target's secrets that an overwrite replaces, each
// after the checks of a deletion.
func (e *Engine) replace(ctx context.Context, tx storage.Tx, c *coffer.Caller, s *coffer.Secret, existing []*coffer.Secret) error {
	for _, t := range existing {
		if err := e.authorize(ctx, tx, c, actionDelete, t.ProjectID, t.Path); err != nil {
			return err
		}
		if t.Protected {
			return coffer.Precondition(coffer.PreconditionProtected, "secret", t.ID,
				fmt.Sprintf("secret %s is protected: it cannot be overwritten", t.FullPath()))
		}
		if err := tx.DeleteSecret(ctx, t.ID); err != nil {
			return storageErr(err, "secret", t.ID)
		}
	}
	return nil
}

// writeImported creates s and its versions in tx, each version sealed
// under the project's default protection key.
func (e *Engine) writeImported(ctx context.Context, tx storage.Tx, c *coffer.Caller, s *coffer.Secret, vs []*storage.Version) error {
	if err := e.insertSecret(ctx, tx, c, s); err != nil {
		return err
	}
	for _, v := range vs {
		w := *v
		w.SecretID, w.ProjectID = s.ID, s.ProjectID
		if v.State != coffer.VersionDestroyed {
			sealed, err := e.keyring.SealVersion(ctx, tx, s.ProjectID, "", v.Data, envelope.VersionAD(s.ProjectID, s.ID, v.Revision))
			if err != nil {
				return fmt.Errorf("seal version: %w", err)
			}
			w.Data = sealed
		}
		if err := tx.CreateVersion(ctx, &w); err != nil {
			return storageErr(err, "secret_version", fmt.Sprint(v.Revision))
		}
	}
	return nil
}
