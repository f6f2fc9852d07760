package engine

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// loadSecret reads a secret by id for the caller and checks that the caller
// may act on it; a secret the caller may not see is ENOTFOUND. Inside an
// update it locks the secret's row.
func (e *Engine) loadSecret(ctx context.Context, tx storage.Tx, c *coffer.Caller, action, id string) (*coffer.Secret, error) {
	if err := validateID("secret_id", id); err != nil {
		return nil, err
	}
	s, err := tx.GetSecret(ctx, id)
	if err != nil {
		return nil, storageErr(err, "secret", id)
	}
	if err := e.authorize(ctx, tx, c, action, s.ProjectID, s.Path); err != nil {
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return nil, coffer.NotFound("secret", id)
		}
		return nil, err
	}
	noteSecret(ctx, s)
	return s, nil
}

// CreateSecret creates a secret with no version.
func (e *Engine) CreateSecret(ctx context.Context, in coffer.SecretCreate) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	s, err := e.newSecret(in)
	if err != nil {
		return nil, err
	}
	err = e.update(ctx, func(tx storage.Tx) error {
		return e.insertSecret(ctx, tx, c, s)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// newSecret validates a SecretCreate and returns the secret to insert.
func (e *Engine) newSecret(in coffer.SecretCreate) (*coffer.Secret, error) {
	if err := validateID("project_id", in.ProjectID); err != nil {
		return nil, err
	}
	if err := validateName("name", in.Name); err != nil {
		return nil, err
	}
	path, err := NormalizePath("path", in.Path)
	if err != nil {
		return nil, err
	}
	typ, err := validateType(in.Type)
	if err != nil {
		return nil, err
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	tags, err := normalizeTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if err := validateEphemeral(in.Ephemeral); err != nil {
		return nil, err
	}
	if err := validateMetadata(in.CustomMetadata); err != nil {
		return nil, err
	}
	if err := validateSettings(in.MaxVersions, in.VersionTTL); err != nil {
		return nil, err
	}
	if in.KeyID != "" {
		if err := validateID("key_id", in.KeyID); err != nil {
			return nil, err
		}
	}
	now := e.Now()
	s := &coffer.Secret{
		ID:             uuid.NewString(),
		ProjectID:      in.ProjectID,
		Path:           path,
		Name:           in.Name,
		Type:           typ,
		Description:    in.Description,
		Tags:           tags,
		Protected:      in.Protected,
		UsedBy:         []string{},
		CustomMetadata: in.CustomMetadata,
		MaxVersions:    in.MaxVersions,
		CASRequired:    in.CASRequired,
		VersionTTL:     in.VersionTTL,
		Ephemeral:      in.Ephemeral,
		KeyID:          in.KeyID,
		KeyVaultID:     in.KeyVaultID,
		State:          coffer.SecretEnabled,
		Stages:         map[string]uint32{},
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if s.CustomMetadata == nil {
		s.CustomMetadata = map[string]string{}
	}
	return s, nil
}

// insertSecret authorizes and stores a validated new secret in tx.
func (e *Engine) insertSecret(ctx context.Context, tx storage.Tx, c *coffer.Caller, s *coffer.Secret) error {
	if err := e.authorize(ctx, tx, c, actionWrite, s.ProjectID, s.Path); err != nil {
		return err
	}
	if s.KeyID != "" {
		k, err := tx.GetKey(ctx, s.KeyID)
		if errors.Is(err, storage.ErrNotFound) || err == nil && k.ProjectID != s.ProjectID {
			return coffer.NotFound("key", s.KeyID)
		} else if err != nil {
			return err
		}
	}
	if max := e.limits.MaxSecretsPerProject; max > 0 {
		_, n, err := tx.ListSecrets(ctx, storage.SecretQuery{ProjectIDs: []string{s.ProjectID}, Limit: 1})
		if err != nil {
			return err
		}
		if n >= max {
			return &coffer.Error{Code: coffer.EQUOTA, Message: "quota exceeded: too many secrets in this project",
				Resource: "secret", Quota: "secrets_per_project", QuotaLimit: max}
		}
	}
	noteSecret(ctx, s)
	if err := tx.CreateSecret(ctx, s); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return &coffer.Error{Code: coffer.ECONFLICT, Resource: "secret", ResourceID: s.Name,
				Message: "a secret with this name already exists in this path"}
		}
		return err
	}
	return nil
}

// GetSecret returns a secret by id.
func (e *Engine) GetSecret(ctx context.Context, id string) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.view(ctx, func(tx storage.Tx) error {
		s, err = e.loadSecret(ctx, tx, c, actionRead, id)
		return err
	})
	return s, err
}

// GetSecretByPath returns the secret at (project, path, name).
func (e *Engine) GetSecretByPath(ctx context.Context, projectID, path, name string) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.view(ctx, func(tx storage.Tx) error {
		s, err = e.loadSecretByPath(ctx, tx, c, actionRead, projectID, path, name)
		return err
	})
	return s, err
}

// LocateSecret returns the secret at (project, path, name) to a caller with
// any right on secrets there; the operation by id that follows checks the
// right it needs. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) LocateSecret(ctx context.Context, projectID, path, name string) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.view(ctx, func(tx storage.Tx) error {
		s, err = e.loadSecretByPath(ctx, tx, c, actionLocate, projectID, path, name)
		return err
	})
	return s, err
}

func (e *Engine) loadSecretByPath(ctx context.Context, tx storage.Tx, c *coffer.Caller, action, projectID, path, name string) (*coffer.Secret, error) {
	if err := validateID("project_id", projectID); err != nil {
		return nil, err
	}
	p, err := NormalizePath("secret_path", path)
	if err != nil {
		return nil, err
	}
	if err := validateName("secret_name", name); err != nil {
		return nil, err
	}
	full := (&coffer.Secret{Path: p, Name: name}).FullPath()
	if err := e.authorize(ctx, tx, c, action, projectID, p); err != nil {
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return nil, coffer.NotFound("secret", full)
		}
		return nil, err
	}
	s, err := tx.GetSecretByPath(ctx, projectID, p, name)
	if err != nil {
		return nil, storageErr(err, "secret", full)
	}
	noteSecret(ctx, s)
	return s, nil
}

// UpdateSecret changes a secret's settings.
func (e *Engine) UpdateSecret(ctx context.Context, id string, u coffer.SecretUpdate) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, actionWrite, id); err != nil {
			return err
		}
		if s.State == coffer.SecretDeletionScheduled {
			return coffer.Precondition(coffer.PreconditionDeletion, "secret", id, "the secret is scheduled for deletion: restore it first")
		}
		if err := applySecretUpdate(s, u); err != nil {
			return err
		}
		if u.Path != nil {
			// Moving a secret needs the right to write at its new place too.
			if err := e.authorize(ctx, tx, c, actionWrite, s.ProjectID, s.Path); err != nil {
				return err
			}
		}
		s.UpdatedAt = e.Now()
		if err := tx.UpdateSecret(ctx, s); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return &coffer.Error{Code: coffer.ECONFLICT, Resource: "secret", ResourceID: s.Name,
					Message: "a secret with this name already exists in this path"}
			}
			return storageErr(err, "secret", id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// applySecretUpdate validates u and applies it to s.
func applySecretUpdate(s *coffer.Secret, u coffer.SecretUpdate) error {
	if u.Name != nil {
		if err := validateName("name", *u.Name); err != nil {
			return err
		}
		s.Name = *u.Name
	}
	if u.Path != nil {
		p, err := NormalizePath("path", *u.Path)
		if err != nil {
			return err
		}
		s.Path = p
	}
	if u.Description != nil {
		if err := validateDescription(*u.Description); err != nil {
			return err
		}
		s.Description = *u.Description
	}
	if u.Tags != nil {
		tags, err := normalizeTags(*u.Tags)
		if err != nil {
			return err
		}
		s.Tags = tags
	}
	if u.CustomMetadata != nil {
		if err := validateMetadata(*u.CustomMetadata); err != nil {
			return err
		}
		s.CustomMetadata = *u.CustomMetadata
		if s.CustomMetadata == nil {
			s.CustomMetadata = map[string]string{}
		}
	}
	if u.CustomMetadataMerge != nil {
		m := make(map[string]string, len(s.CustomMetadata)+len(u.CustomMetadataMerge))
		for k, v := range s.CustomMetadata {
			m[k] = v
		}
		for k, v := range u.CustomMetadataMerge {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = *v
			}
		}
		if err := validateMetadata(m); err != nil {
			return err
		}
		s.CustomMetadata = m
	}
	if u.MaxVersions != nil {
		if err := validateSettings(*u.MaxVersions, 0); err != nil {
			return err
		}
		s.MaxVersions = *u.MaxVersions
	}
	if u.VersionTTL != nil {
		if err := validateSettings(0, *u.VersionTTL); err != nil {
			return err
		}
		s.VersionTTL = *u.VersionTTL
	}
	if u.CASRequired != nil {
		s.CASRequired = *u.CASRequired
	}
	if u.Ephemeral != nil {
		if err := validateEphemeral(u.Ephemeral); err != nil {
			return err
		}
		s.Ephemeral = u.Ephemeral
	}
	return nil
}

// DeleteSecret schedules a secret for deletion, for its project's waiting
// period (see scheduleDeletion); an ephemeral secret is removed at once.
// Deleting a secret already scheduled does nothing.
func (e *Engine) DeleteSecret(ctx context.Context, id string) error {
	return e.deleteSecret(ctx, id, func(tx storage.Tx, s *coffer.Secret) error {
		if s.Ephemeral != nil {
			return storageErr(tx.DeleteSecret(ctx, id), "secret", id)
		}
		if s.State == coffer.SecretDeletionScheduled {
			return nil
		}
		if err := e.scheduleDeletion(ctx, tx, s); err != nil {
			return err
		}
		s.UpdatedAt = *s.DeletionRequestedAt
		return storageErr(tx.UpdateSecret(ctx, s), "secret", id)
	})
}

// PurgeSecret removes a secret and its versions at once.
func (e *Engine) PurgeSecret(ctx context.Context, id string) error {
	return e.deleteSecret(ctx, id, func(tx storage.Tx, _ *coffer.Secret) error {
		return storageErr(tx.DeleteSecret(ctx, id), "secret", id)
	})
}

// deleteSecret runs fn, in one transaction, on a secret the caller may
// delete and that is not protected.
func (e *Engine) deleteSecret(ctx context.Context, id string, fn func(tx storage.Tx, s *coffer.Secret) error) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	return e.update(ctx, func(tx storage.Tx) error {
		s, err := e.loadSecret(ctx, tx, c, actionDelete, id)
		if err != nil {
			return err
		}
		if s.Protected {
			return coffer.Precondition(coffer.PreconditionProtected, "secret", id, "cannot delete a protected secret")
		}
		return fn(tx, s)
	})
}

// RestoreSecret cancels a scheduled deletion; versions scheduled for deletion
// return to the state they had.
func (e *Engine) RestoreSecret(ctx context.Context, id string) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, actionDelete, id); err != nil {
			return err
		}
		if s.State != coffer.SecretDeletionScheduled {
			return coffer.Precondition("secret_not_scheduled_for_deletion", "secret", id, "the secret is not scheduled for deletion")
		}
		versions, _, err := tx.ListVersions(ctx, id, coffer.VersionFilter{States: []coffer.VersionState{coffer.VersionScheduledForDeletion}})
		if err != nil {
			return err
		}
		for _, lv := range versions {
			v, err := tx.GetVersion(ctx, id, lv.Revision)
			if err != nil {
				return err
			}
			restoreVersion(v)
			if err := tx.UpdateVersion(ctx, v); err != nil {
				return err
			}
		}
		now := e.Now()
		s.State = coffer.SecretEnabled
		s.DeletionRequestedAt = nil
		s.PurgeAt = nil
		s.UpdatedAt = now
		return storageErr(tx.UpdateSecret(ctx, s), "secret", id)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SetProtected protects or unprotects a secret. It does not change UpdatedAt,
// as the Scaleway service does not.
func (e *Engine) SetProtected(ctx context.Context, id string, protected bool) (*coffer.Secret, error) {
	return e.changeSecret(ctx, id, actionWrite, func(s *coffer.Secret) error {
		s.Protected = protected
		return nil
	})
}

// AddSecretOwner records that a product uses the secret.
func (e *Engine) AddSecretOwner(ctx context.Context, id, product string) error {
	if product == "" || len(product) > 64 || strings.Trim(product, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return coffer.Invalid("product", coffer.ReasonConstraint, "product must be a product name such as edge_services or s2s_vpn")
	}
	_, err := e.changeSecret(ctx, id, actionWrite, func(s *coffer.Secret) error {
		if !slices.Contains(s.UsedBy, product) {
			s.UsedBy = append(s.UsedBy, product)
		}
		return nil
	})
	return err
}

// changeSecret applies fn to a secret that is not scheduled for deletion, in
// one transaction.
func (e *Engine) changeSecret(ctx context.Context, id, action string, fn func(s *coffer.Secret) error) (*coffer.Secret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var s *coffer.Secret
	err = e.update(ctx, func(tx storage.Tx) error {
		if s, err = e.loadSecret(ctx, tx, c, action, id); err != nil {
			return err
		}
		if s.State == coffer.SecretDeletionScheduled {
			return coffer.Precondition(coffer.PreconditionDeletion, "secret", id, "the secret is scheduled for deletion: restore it first")
		}
		if err := fn(s); err != nil {
			return err
		}
		return storageErr(tx.UpdateSecret(ctx, s), "secret", id)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// visibleProjects returns the projects a listing covers, the one named or
// every project of the caller's organization that it may read, and the path
// prefixes the listing is limited to (none when the caller may read the
// whole of them). A principal whose policies limit it to paths lists one
// project at a time; across projects, those it may read only in part are
// left out when it may read others whole or its prefixes differ between
// them.
func (e *Engine) visibleProjects(ctx context.Context, tx storage.Tx, c *coffer.Caller, projectID, orgID string) ([]string, []string, error) {
	if orgID != "" {
		if err := validateID("organization_id", orgID); err != nil {
			return nil, nil, err
		}
		if orgID != c.Principal.OrganizationID {
			return nil, nil, nil
		}
	}
	if projectID != "" {
		if err := validateID("project_id", projectID); err != nil {
			return nil, nil, err
		}
		prefixes, err := e.readablePrefixes(ctx, tx, c, projectID)
		if err != nil {
			return nil, nil, err
		}
		return []string{projectID}, prefixes, nil
	}
	projects, err := tx.ListProjects(ctx, c.Principal.OrganizationID)
	if err != nil {
		return nil, nil, err
	}
	var whole, partial []string
	var partialPrefixes []string
	samePrefixes := true
	for _, p := range projects {
		prefixes, err := e.readablePrefixes(ctx, tx, c, p.ID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND || coffer.ErrorCode(err) == coffer.EFORBIDDEN {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		if prefixes == nil {
			whole = append(whole, p.ID)
			continue
		}
		if partial != nil && !slices.Equal(prefixes, partialPrefixes) {
			samePrefixes = false
		}
		partial, partialPrefixes = append(partial, p.ID), prefixes
	}
	if len(whole) > 0 || len(partial) == 0 {
		return whole, nil, nil
	}
	if !samePrefixes {
		return partial[:1], partialPrefixes, nil
	}
	return partial, partialPrefixes, nil
}

// readablePrefixes returns the path prefixes under which the caller may read
// a project's metadata, nil for the whole project, or the error of
// authorize when it may read none of it.
func (e *Engine) readablePrefixes(ctx context.Context, tx storage.Tx, c *coffer.Caller, projectID string) ([]string, error) {
	if err := e.authorize(ctx, tx, c, actionRead, projectID, "/"); err == nil {
		return nil, nil
	} else if code := coffer.ErrorCode(err); code != coffer.ENOTFOUND && code != coffer.EFORBIDDEN {
		return nil, err
	} else if c.Principal.Admin {
		return nil, err
	} else {
		prefixes, perr := e.readPrefixes(ctx, tx, c, projectID)
		if perr != nil {
			return nil, perr
		}
		if len(prefixes) == 0 {
			return nil, err
		}
		slices.Sort(prefixes)
		return slices.Compact(prefixes), nil
	}
}

// page checks and caps paging arguments.
func (e *Engine) page(offset, limit int) (int, int, error) {
	if offset < 0 {
		return 0, 0, coffer.Invalid("page", coffer.ReasonConstraint, "page must be positive")
	}
	if limit < 0 {
		return 0, 0, coffer.Invalid("page_size", coffer.ReasonConstraint, "page_size must not be negative")
	}
	if limit == 0 || limit > e.limits.MaxPageSize {
		limit = e.limits.MaxPageSize
	}
	return offset, limit, nil
}

// ListSecrets returns one page of matching secrets and the total count.
func (e *Engine) ListSecrets(ctx context.Context, f coffer.SecretFilter) ([]*coffer.Secret, int, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	q := storage.SecretQuery{Name: f.Name, Tags: f.Tags, Ephemeral: f.Ephemeral, Order: f.Order,
		ScheduledForDeletion: &f.ScheduledForDeletion}
	if q.Order == "" {
		q.Order = coffer.OrderNameAsc
	} else if !q.Order.Valid() {
		return nil, 0, coffer.Invalid("order_by", coffer.ReasonConstraint, "unknown order")
	}
	if f.Type != "" {
		if q.Type, err = validateType(f.Type); err != nil {
			return nil, 0, err
		}
	}
	if f.Path != "" {
		if q.Path, err = NormalizePath("path", f.Path); err != nil {
			return nil, 0, err
		}
	}
	if f.PathPrefix != "" {
		if q.PathPrefix, err = NormalizePath("path", f.PathPrefix); err != nil {
			return nil, 0, err
		}
	}
	if q.Offset, q.Limit, err = e.page(f.Offset, f.Limit); err != nil {
		return nil, 0, err
	}
	var (
		out   []*coffer.Secret
		total int
	)
	err = e.view(ctx, func(tx storage.Tx) error {
		if q.ProjectIDs, q.PathPrefixes, err = e.visibleProjects(ctx, tx, c, f.ProjectID, f.OrganizationID); err != nil || len(q.ProjectIDs) == 0 {
			return err
		}
		out, total, err = tx.ListSecrets(ctx, q)
		return err
	})
	if out == nil {
		out = []*coffer.Secret{}
	}
	return out, total, err
}

// BrowseSecrets lists the secrets and sub-folders directly in a folder.
// Folders exist because a secret lies below them; a folder's times are the
// earliest creation and the latest update of the secrets below it.
func (e *Engine) BrowseSecrets(ctx context.Context, f coffer.BrowseFilter) ([]coffer.BrowseItem, int, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	prefix, err := NormalizePath("prefix", f.Prefix)
	if err != nil {
		return nil, 0, err
	}
	order := f.Order
	if order == "" {
		order = coffer.OrderNameAsc
	} else if !order.Valid() {
		return nil, 0, coffer.Invalid("order_by", coffer.ReasonConstraint, "unknown order")
	}
	offset, limit, err := e.page(f.Offset, f.Limit)
	if err != nil {
		return nil, 0, err
	}
	q := storage.BrowseQuery{FolderQuery: storage.FolderQuery{Folder: prefix, Tags: f.Tags}, Order: order, Offset: offset, Limit: limit}
	if f.Type != "" {
		if q.Type, err = validateType(f.Type); err != nil {
			return nil, 0, err
		}
	}
	var (
		items []coffer.BrowseItem
		total int
	)
	err = e.view(ctx, func(tx storage.Tx) error {
		if q.ProjectIDs, q.PathPrefixes, err = e.visibleProjects(ctx, tx, c, f.ProjectID, ""); err != nil || len(q.ProjectIDs) == 0 {
			return err
		}
		items, total, err = tx.BrowseFolder(ctx, q)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if items == nil {
		items = []coffer.BrowseItem{}
	}
	return items, total, nil
}

// ListKeys returns one page of the keys directly in a folder.
func (e *Engine) ListKeys(ctx context.Context, f coffer.KeyFilter) ([]coffer.KeyEntry, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	folder, err := NormalizePath("path", f.Folder)
	if err != nil {
		return nil, err
	}
	_, limit, err := e.page(0, f.Limit)
	if err != nil {
		return nil, err
	}
	q := storage.KeyQuery{FolderQuery: storage.FolderQuery{Folder: folder}, After: f.After, Limit: limit, Secrets: f.Versions}
	var out []coffer.KeyEntry
	err = e.view(ctx, func(tx storage.Tx) error {
		if q.ProjectIDs, q.PathPrefixes, err = e.visibleProjects(ctx, tx, c, f.ProjectID, ""); err != nil || len(q.ProjectIDs) == 0 {
			return err
		}
		keys, err := tx.ListFolderKeys(ctx, q)
		if err != nil {
			return err
		}
		out = make([]coffer.KeyEntry, len(keys))
		var ids []string
		bySecret := map[string]*coffer.KeyEntry{}
		for i, k := range keys {
			out[i] = coffer.KeyEntry{Key: k.Key, Secret: k.Secret}
			if k.Secret != nil {
				ids = append(ids, k.Secret.ID)
				bySecret[k.Secret.ID] = &out[i]
			}
		}
		if !f.Versions {
			return nil
		}
		vs, err := tx.ListSecretsVersions(ctx, ids)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if k := bySecret[v.SecretID]; k != nil {
				v.Latest = v.Revision == k.Secret.LatestRevision
				k.Versions = append(k.Versions, &v.Version)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTags returns one page of the distinct tags of a project's secrets.
func (e *Engine) ListTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	if offset, limit, err = e.page(offset, limit); err != nil {
		return nil, 0, err
	}
	var (
		tags  []string
		total int
	)
	err = e.view(ctx, func(tx storage.Tx) error {
		if err := e.authorizeProject(ctx, tx, c, projectID); err != nil {
			return err
		}
		tags, total, err = tx.ListTags(ctx, projectID, offset, limit)
		return err
	})
	if tags == nil {
		tags = []string{}
	}
	return tags, total, err
}

// ListSecretTypes returns the distinct types of a project's secrets.
func (e *Engine) ListSecretTypes(ctx context.Context, projectID string, offset, limit int) ([]coffer.SecretType, int, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	if offset, limit, err = e.page(offset, limit); err != nil {
		return nil, 0, err
	}
	var types []coffer.SecretType
	err = e.view(ctx, func(tx storage.Tx) error {
		if err := e.authorizeProject(ctx, tx, c, projectID); err != nil {
			return err
		}
		types, err = tx.ListSecretTypes(ctx, projectID)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	total := len(types)
	if offset >= total {
		return []coffer.SecretType{}, total, nil
	}
	return types[offset:min(offset+limit, total)], total, nil
}

func (e *Engine) authorizeProject(ctx context.Context, tx storage.Tx, c *coffer.Caller, projectID string) error {
	if err := validateID("project_id", projectID); err != nil {
		return err
	}
	return e.authorize(ctx, tx, c, actionRead, projectID, "/")
}
