package engine

import (
	"context"
	"errors"
	"slices"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ coffer.OrganizationService = (*Engine)(nil)

// metaSystemOrganization names the meta value that holds the id of the
// system organization: the one Bootstrap created, whose admins are the
// operators of the whole store. It is written once and never changes, so
// that no later organization can claim the role.
const metaSystemOrganization = "organization.system"

// systemOrganization returns the id of the store's system organization, or
// "" when none is recorded (a store not bootstrapped yet). Inside Update it
// locks the name, which makes organization creations take turns.
func systemOrganization(ctx context.Context, tx storage.Tx) (string, error) {
	v, err := tx.GetMeta(ctx, metaSystemOrganization)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return string(v), nil
}

// recordSystemOrganization records the system organization of a store
// bootstrapped before it was recorded: the oldest organization. Until
// organizations could be created through the admin API, Bootstrap created
// the only one, so the oldest is the one it created. A store that already
// records it is left alone.
func recordSystemOrganization(ctx context.Context, tx storage.Tx) error {
	if id, err := systemOrganization(ctx, tx); err != nil || id != "" {
		return err
	}
	otx, ok := tx.(storage.OrganizationTx)
	if !ok {
		return nil
	}
	orgs, err := otx.ListOrganizations(ctx)
	if err != nil || len(orgs) == 0 {
		return err
	}
	return tx.PutMeta(ctx, metaSystemOrganization, []byte(orgs[0].ID))
}

// isOperator reports whether the caller is an operator: an admin principal
// of the system organization, not limited to one project by a client
// certificate.
func isOperator(c *coffer.Caller, systemOrg string) bool {
	return systemOrg != "" && c.Principal.Admin && c.ProjectScope == "" && c.Principal.OrganizationID == systemOrg
}

// errNotOperator is the error of a caller that may not create organizations.
var errNotOperator = &coffer.Error{
	Code: coffer.EFORBIDDEN, Message: "only an admin of the system organization may create organizations",
	Resource: "organization", Action: "create",
}

// organizationTx returns tx's listing of organizations, or an error for a
// store without it.
func organizationTx(tx storage.Tx) (storage.OrganizationTx, error) {
	otx, ok := tx.(storage.OrganizationTx)
	if !ok {
		return nil, coffer.Errorf(coffer.EINTERNAL, "the store does not list organizations")
	}
	return otx, nil
}

// seedOrganization creates in tx an organization, its project "default"
// with its protection key, an admin principal "admin" and an API key for
// it: what an organization needs to be used at once.
func (e *Engine) seedOrganization(ctx context.Context, tx storage.Tx, name, keyDescription string) (*coffer.Organization, *coffer.Principal, *Credentials, error) {
	now := e.Now()
	org := &coffer.Organization{ID: uuid.NewString(), Name: name, CreatedAt: now}
	if err := tx.CreateOrganization(ctx, org); err != nil {
		return nil, nil, nil, err
	}
	proj := &coffer.Project{
		ID: uuid.NewString(), OrganizationID: org.ID, Name: "default",
		Settings:  coffer.ProjectSettings{MaxVersions: coffer.DefaultMaxVersions},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateProject(ctx, proj); err != nil {
		return nil, nil, nil, err
	}
	if _, err := e.keyring.EnsureDefaultKey(ctx, tx, proj.ID); err != nil {
		return nil, nil, nil, err
	}
	admin := &coffer.Principal{
		ID: uuid.NewString(), OrganizationID: org.ID, Kind: coffer.PrincipalUser,
		Name: "admin", Admin: true, CreatedAt: now,
	}
	if err := tx.CreatePrincipal(ctx, admin); err != nil {
		return nil, nil, nil, err
	}
	creds, err := e.createAPIKey(ctx, tx, admin, proj.ID, keyDescription)
	if err != nil {
		return nil, nil, nil, err
	}
	return org, admin, creds, nil
}

// CreateOrganization creates an organization with its project "default", an
// admin principal and its API key in one transaction; only operators may.
// Names are unique across the store, so that operators can tell
// organizations apart. Returns EINVALID, ECONFLICT, EFORBIDDEN.
func (e *Engine) CreateOrganization(ctx context.Context, name string) (*coffer.OrganizationCreated, error) {
	if err := validateDisplayName("name", name); err != nil {
		return nil, err
	}
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !c.Principal.Admin || c.ProjectScope != "" {
		return nil, errNotOperator
	}
	var out *coffer.OrganizationCreated
	err = e.update(ctx, func(tx storage.Tx) error {
		// Reading the mark in Update locks it: creations run one at a
		// time, so the name check below cannot race another node's.
		sys, err := systemOrganization(ctx, tx)
		if err != nil {
			return err
		}
		if !isOperator(c, sys) {
			return errNotOperator
		}
		otx, err := organizationTx(tx)
		if err != nil {
			return err
		}
		orgs, err := otx.ListOrganizations(ctx)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(orgs, func(o *coffer.Organization) bool { return o.Name == name }) {
			return &coffer.Error{Code: coffer.ECONFLICT, Message: "an organization with this name already exists", Resource: "organization", ResourceID: name}
		}
		org, admin, creds, err := e.seedOrganization(ctx, tx, name, "organization admin key")
		if err != nil {
			return err
		}
		out = &coffer.OrganizationCreated{
			Organization: org, ProjectID: creds.ProjectID, AdminPrincipalID: admin.ID,
			AccessKey: creds.AccessKey, SecretKey: creds.SecretKey,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// visibleOrganization reports whether the caller may see an organization:
// its own, or any for an operator.
func visibleOrganization(c *coffer.Caller, systemOrg, id string) bool {
	return id == c.Principal.OrganizationID || isOperator(c, systemOrg)
}

// GetOrganization returns an organization the caller may see; the others do
// not exist for it. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) GetOrganization(ctx context.Context, id string) (*coffer.Organization, error) {
	if err := validateID("organization_id", id); err != nil {
		return nil, err
	}
	var out *coffer.Organization
	err := e.iam(ctx, false, func(c *coffer.Caller, tx storage.Tx, _ storage.IAMTx) error {
		sys, err := systemOrganization(ctx, tx)
		if err != nil {
			return err
		}
		if !visibleOrganization(c, sys, id) {
			return coffer.NotFound("organization", id)
		}
		out, err = tx.GetOrganization(ctx, id)
		return storageErr(err, "organization", id)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListOrganizations returns every organization, oldest first, to an
// operator, and its own to any other caller that manages IAM.
// Returns EFORBIDDEN.
func (e *Engine) ListOrganizations(ctx context.Context) ([]*coffer.Organization, error) {
	var out []*coffer.Organization
	err := e.iam(ctx, false, func(c *coffer.Caller, tx storage.Tx, _ storage.IAMTx) error {
		sys, err := systemOrganization(ctx, tx)
		if err != nil {
			return err
		}
		if !isOperator(c, sys) {
			o, err := tx.GetOrganization(ctx, c.Principal.OrganizationID)
			if err != nil {
				return storageErr(err, "organization", c.Principal.OrganizationID)
			}
			out = []*coffer.Organization{o}
			return nil
		}
		otx, err := organizationTx(tx)
		if err != nil {
			return err
		}
		out, err = otx.ListOrganizations(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
