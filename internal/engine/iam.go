package engine

import (
	"context"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ coffer.IAMService = (*Engine)(nil)

// iamTx returns tx's IAM abilities, or an error for a store without them.
func iamTx(tx storage.Tx) (storage.IAMTx, error) {
	itx, ok := tx.(storage.IAMTx)
	if !ok {
		return nil, coffer.Errorf(coffer.EINTERNAL, "the store does not keep policies")
	}
	return itx, nil
}

// notify publishes a change to the other nodes sharing the store, when the
// store is shared.
func notify(ctx context.Context, tx storage.Tx, c storage.Change) error {
	if n, ok := tx.(storage.NotifyTx); ok {
		return n.Notify(ctx, c)
	}
	return nil
}

// changed drops this node's caches of principals and keys, after a commit
// that changed rights.
func (e *Engine) changed() {
	e.auth.clear(e.Now())
	e.rules.clear()
}

// guardAdmin refuses a change to an admin principal, or its keys and
// policies, to a caller that is not an admin itself: an IAM manager cannot
// take over or lock out the organization's administrators.
func guardAdmin(c *coffer.Caller, p *coffer.Principal) error {
	if p.Admin && !c.Principal.Admin {
		return forbidden(actionIAM)
	}
	return nil
}

// iam runs fn in an update transaction after checking that the caller may
// manage IAM records.
func (e *Engine) iam(ctx context.Context, write bool, fn func(c *coffer.Caller, tx storage.Tx, itx storage.IAMTx) error) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	run := e.view
	if write {
		run = e.update
	}
	return run(ctx, func(tx storage.Tx) error {
		if err := e.authorizeOrg(ctx, tx, c, actionIAM); err != nil {
			return err
		}
		itx, err := iamTx(tx)
		if err != nil {
			return err
		}
		return fn(c, tx, itx)
	})
}

// CreateProject creates a project of the caller's organization with its
// default protection key. Returns EINVALID, ECONFLICT, EFORBIDDEN.
func (e *Engine) CreateProject(ctx context.Context, name string) (*coffer.Project, error) {
	if err := validateDisplayName("name", name); err != nil {
		return nil, err
	}
	var p *coffer.Project
	err := e.iam(ctx, true, func(c *coffer.Caller, tx storage.Tx, _ storage.IAMTx) error {
		now := e.Now()
		p = &coffer.Project{
			ID: uuid.NewString(), OrganizationID: c.Principal.OrganizationID, Name: name,
			Settings:  coffer.ProjectSettings{MaxVersions: coffer.DefaultMaxVersions},
			CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.CreateProject(ctx, p); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return &coffer.Error{Code: coffer.ECONFLICT, Message: "a project with this name already exists", Resource: "project", ResourceID: name}
			}
			return err
		}
		_, err := e.keyring.EnsureDefaultKey(ctx, tx, p.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ListProjects returns the projects of the caller's organization that it
// may see: all of them for an IAM manager, else those a policy covers.
func (e *Engine) ListProjects(ctx context.Context) ([]*coffer.Project, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out []*coffer.Project
	err = e.view(ctx, func(tx storage.Tx) error {
		ps, err := tx.ListProjects(ctx, c.Principal.OrganizationID)
		if err != nil {
			return err
		}
		all := e.authorizeOrg(ctx, tx, c, actionIAM) == nil
		rules, err := e.principalRules(ctx, tx, c.Principal)
		if err != nil {
			return err
		}
		out = []*coffer.Project{}
		for _, p := range ps {
			if c.ProjectScope != "" && p.ID != c.ProjectScope {
				continue
			}
			if all || slices.ContainsFunc(rules, func(r *coffer.Policy) bool { return r.ProjectID == "" || r.ProjectID == p.ID }) {
				out = append(out, p)
			}
		}
		return nil
	})
	return out, err
}

// CreatePrincipal creates a user or an application of the caller's
// organization, without rights unless it is an admin principal, which only
// an admin may create: an IAM manager cannot make itself an administrator
// (see guardAdmin). Returns EINVALID, EFORBIDDEN.
func (e *Engine) CreatePrincipal(ctx context.Context, in coffer.PrincipalCreate) (*coffer.Principal, error) {
	if in.Kind != coffer.PrincipalUser && in.Kind != coffer.PrincipalApplication {
		return nil, coffer.Invalid("kind", coffer.ReasonConstraint, "kind must be user or application")
	}
	if err := validateDisplayName("name", in.Name); err != nil {
		return nil, err
	}
	var p *coffer.Principal
	err := e.iam(ctx, true, func(c *coffer.Caller, tx storage.Tx, _ storage.IAMTx) error {
		p = &coffer.Principal{
			ID: uuid.NewString(), OrganizationID: c.Principal.OrganizationID,
			Kind: in.Kind, Name: in.Name, Admin: in.Admin, CreatedAt: e.Now(),
		}
		if err := guardAdmin(c, p); err != nil {
			return err
		}
		return tx.CreatePrincipal(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// loadPrincipal returns a principal of the caller's organization.
func loadPrincipal(ctx context.Context, tx storage.Tx, c *coffer.Caller, id string) (*coffer.Principal, error) {
	if err := validateID("principal_id", id); err != nil {
		return nil, err
	}
	p, err := tx.GetPrincipal(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && p.OrganizationID != c.Principal.OrganizationID) {
		return nil, coffer.NotFound("principal", id)
	} else if err != nil {
		return nil, err
	}
	return p, nil
}

// GetPrincipal returns a principal of the caller's organization.
// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) GetPrincipal(ctx context.Context, id string) (*coffer.Principal, error) {
	var p *coffer.Principal
	err := e.iam(ctx, false, func(c *coffer.Caller, tx storage.Tx, _ storage.IAMTx) error {
		var err error
		p, err = loadPrincipal(ctx, tx, c, id)
		return err
	})
	return p, err
}

// ListPrincipals returns the principals of the caller's organization.
// Returns EFORBIDDEN.
func (e *Engine) ListPrincipals(ctx context.Context) ([]*coffer.Principal, error) {
	var ps []*coffer.Principal
	err := e.iam(ctx, false, func(c *coffer.Caller, _ storage.Tx, itx storage.IAMTx) error {
		var err error
		ps, err = itx.ListPrincipals(ctx, c.Principal.OrganizationID)
		return err
	})
	return ps, err
}

// DeletePrincipal deletes a principal with its keys, certificates and
// policies; they stop working at once on every node. Returns EINVALID,
// ENOTFOUND, EFORBIDDEN, EPRECONDITION.
func (e *Engine) DeletePrincipal(ctx context.Context, id string) error {
	err := e.iam(ctx, true, func(c *coffer.Caller, tx storage.Tx, itx storage.IAMTx) error {
		p, err := loadPrincipal(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if p.ID == c.Principal.ID {
			return coffer.Precondition("self", "principal", id, "a principal cannot delete itself")
		}
		if err := guardAdmin(c, p); err != nil {
			return err
		}
		if err := storageErr(itx.DeletePrincipal(ctx, id), "principal", id); err != nil {
			return err
		}
		return notify(ctx, tx, storage.Change{Kind: storage.ChangePrincipal, ID: id})
	})
	e.changed()
	return err
}

// CreateAPIKey creates an API key for a principal of the caller's
// organization and returns it with its secret key, shown this once.
// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) CreateAPIKey(ctx context.Context, in coffer.APIKeyCreate) (*coffer.APIKeySecret, error) {
	if len(in.Description) > 1024 || !utf8.ValidString(in.Description) {
		return nil, coffer.Invalid("description", coffer.ReasonConstraint, "description must be at most 1024 bytes of UTF-8")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(e.Now()) {
		return nil, coffer.Invalid("expires_at", coffer.ReasonConstraint, "expires_at must be in the future")
	}
	var out *coffer.APIKeySecret
	err := e.iam(ctx, true, func(c *coffer.Caller, tx storage.Tx, itx storage.IAMTx) error {
		p, err := loadPrincipal(ctx, tx, c, in.PrincipalID)
		if err != nil {
			return err
		}
		if err := guardAdmin(c, p); err != nil {
			return err
		}
		project := in.DefaultProjectID
		if project == "" {
			project = c.DefaultProjectID
		}
		if org, err := e.projectOrganization(ctx, tx, project); err != nil || org != p.OrganizationID {
			return coffer.NotFound("project", project)
		}
		creds, err := e.createAPIKey(ctx, tx, p, project, in.Description)
		if err != nil {
			return err
		}
		k, err := tx.GetAPIKey(ctx, creds.AccessKey)
		if err != nil {
			return err
		}
		if in.ExpiresAt != nil {
			t := in.ExpiresAt.UTC().Truncate(time.Microsecond)
			k.ExpiresAt = &t
			if err := tx.UpdateAPIKey(ctx, k); err != nil {
				return err
			}
		}
		out = &coffer.APIKeySecret{APIKey: k.APIKey, SecretKey: creds.SecretKey}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAPIKeys returns a principal's keys, or all the organization's for an
// empty principalID, without secrets. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) ListAPIKeys(ctx context.Context, principalID string) ([]*coffer.APIKey, error) {
	var out []*coffer.APIKey
	err := e.iam(ctx, false, func(c *coffer.Caller, tx storage.Tx, itx storage.IAMTx) error {
		if principalID != "" {
			if _, err := loadPrincipal(ctx, tx, c, principalID); err != nil {
				return err
			}
		}
		ks, err := itx.ListAPIKeys(ctx, c.Principal.OrganizationID, principalID)
		if err != nil {
			return err
		}
		out = make([]*coffer.APIKey, len(ks))
		for i, k := range ks {
			out[i] = &k.APIKey
		}
		return nil
	})
	return out, err
}

// loadAPIKey returns a key of the caller's organization.
func loadAPIKey(ctx context.Context, tx storage.Tx, c *coffer.Caller, accessKey string) (*storage.APIKey, error) {
	if accessKey == "" || len(accessKey) > 64 {
		return nil, coffer.Invalid("access_key", coffer.ReasonFormat, "access_key is not valid")
	}
	k, err := tx.GetAPIKey(ctx, accessKey)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && k.OrganizationID != c.Principal.OrganizationID) {
		return nil, coffer.NotFound("api_key", accessKey)
	} else if err != nil {
		return nil, err
	}
	p, err := tx.GetPrincipal(ctx, k.PrincipalID)
	if err != nil {
		return nil, storageErr(err, "principal", k.PrincipalID)
	}
	if err := guardAdmin(c, p); err != nil {
		return nil, err
	}
	return k, nil
}

// SetAPIKeyDisabled disables or enables a key; a disabled key stops working
// at once on every node. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) SetAPIKeyDisabled(ctx context.Context, accessKey string, disabled bool) (*coffer.APIKey, error) {
	var out *coffer.APIKey
	err := e.iam(ctx, true, func(c *coffer.Caller, tx storage.Tx, _ storage.IAMTx) error {
		k, err := loadAPIKey(ctx, tx, c, accessKey)
		if err != nil {
			return err
		}
		k.Disabled = disabled
		if err := storageErr(tx.UpdateAPIKey(ctx, k), "api_key", accessKey); err != nil {
			return err
		}
		out = &k.APIKey
		return notify(ctx, tx, storage.Change{Kind: storage.ChangeAPIKey, ID: accessKey})
	})
	e.changed()
	return out, err
}

// DeleteAPIKey deletes a key; it stops working at once on every node.
// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) DeleteAPIKey(ctx context.Context, accessKey string) error {
	err := e.iam(ctx, true, func(c *coffer.Caller, tx storage.Tx, itx storage.IAMTx) error {
		if _, err := loadAPIKey(ctx, tx, c, accessKey); err != nil {
			return err
		}
		if err := storageErr(itx.DeleteAPIKey(ctx, accessKey), "api_key", accessKey); err != nil {
			return err
		}
		return notify(ctx, tx, storage.Change{Kind: storage.ChangeAPIKey, ID: accessKey})
	})
	e.changed()
	return err
}

// CreatePolicy grants a principal permission sets on a project, or on all
// projects for an empty ProjectID, optionally below a path.
// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) CreatePolicy(ctx context.Context, in coffer.PolicyCreate) (*coffer.Policy, error) {
	prefix, err := NormalizePath("path_prefix", in.PathPrefix)
	if err != nil {
		return nil, err
	}
	if len(in.PermissionSets) == 0 {
		return nil, coffer.Invalid("permission_sets", coffer.ReasonRequired, "permission_sets is required")
	}
	var sets []coffer.PermissionSet
	for _, s := range in.PermissionSets {
		if !s.Valid() {
			return nil, coffer.Invalid("permission_sets", coffer.ReasonConstraint, "unknown permission set "+string(s))
		}
		if !slices.Contains(sets, s) {
			sets = append(sets, s)
		}
	}
	var p *coffer.Policy
	err = e.iam(ctx, true, func(c *coffer.Caller, tx storage.Tx, itx storage.IAMTx) error {
		pr, err := loadPrincipal(ctx, tx, c, in.PrincipalID)
		if err != nil {
			return err
		}
		if err := guardAdmin(c, pr); err != nil {
			return err
		}
		if in.ProjectID != "" {
			if err := validateID("project_id", in.ProjectID); err != nil {
				return err
			}
			if org, err := e.projectOrganization(ctx, tx, in.ProjectID); err != nil || org != pr.OrganizationID {
				return coffer.NotFound("project", in.ProjectID)
			}
		}
		p = &coffer.Policy{
			ID: uuid.NewString(), OrganizationID: pr.OrganizationID, PrincipalID: pr.ID,
			ProjectID: in.ProjectID, PathPrefix: prefix, PermissionSets: sets, CreatedAt: e.Now(),
		}
		if err := itx.CreatePolicy(ctx, p); err != nil {
			return err
		}
		return notify(ctx, tx, storage.Change{Kind: storage.ChangePrincipal, ID: pr.ID})
	})
	e.changed()
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ListPolicies returns a principal's policies, or all the organization's
// for an empty principalID. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) ListPolicies(ctx context.Context, principalID string) ([]*coffer.Policy, error) {
	var out []*coffer.Policy
	err := e.iam(ctx, false, func(c *coffer.Caller, tx storage.Tx, itx storage.IAMTx) error {
		if principalID != "" {
			if _, err := loadPrincipal(ctx, tx, c, principalID); err != nil {
				return err
			}
		}
		var err error
		out, err = itx.ListPolicies(ctx, c.Principal.OrganizationID, principalID)
		return err
	})
	return out, err
}

// DeletePolicy removes a policy; its rights end at once on every node.
// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) DeletePolicy(ctx context.Context, id string) error {
	err := e.iam(ctx, true, func(c *coffer.Caller, tx storage.Tx, itx storage.IAMTx) error {
		if err := validateID("policy_id", id); err != nil {
			return err
		}
		p, err := itx.GetPolicy(ctx, id)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && p.OrganizationID != c.Principal.OrganizationID) {
			return coffer.NotFound("policy", id)
		} else if err != nil {
			return err
		}
		if err := storageErr(itx.DeletePolicy(ctx, id), "policy", id); err != nil {
			return err
		}
		return notify(ctx, tx, storage.Change{Kind: storage.ChangePrincipal, ID: p.PrincipalID})
	})
	e.changed()
	return err
}
