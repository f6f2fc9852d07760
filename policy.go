package coffer

import (
	"context"
	"time"
)

// PermissionSet names a group of rights a policy grants.
type PermissionSet string

// Permission sets.
const (
	// SecretManagerFullAccess grants every secret operation and the
	// project's settings.
	SecretManagerFullAccess PermissionSet = "SecretManagerFullAccess"
	// SecretManagerReadOnly lists secrets and reads their metadata, never
	// their values.
	SecretManagerReadOnly PermissionSet = "SecretManagerReadOnly"
	// SecretManagerSecretAccess reads secret values.
	SecretManagerSecretAccess PermissionSet = "SecretManagerSecretAccess"
	// SecretManagerSecretCreate creates secrets and versions and changes
	// them, without reading anything.
	SecretManagerSecretCreate PermissionSet = "SecretManagerSecretCreate"
	// SecretManagerSecretDelete deletes secrets and versions.
	SecretManagerSecretDelete PermissionSet = "SecretManagerSecretDelete"
	// IAMManager manages projects, principals, API keys and policies of the
	// organization; it takes effect in a rule on all projects.
	IAMManager PermissionSet = "IAMManager"
	// AuditReader reads the audit trail.
	AuditReader PermissionSet = "AuditReader"
	// KeyManager manages client certificates and protection keys.
	KeyManager PermissionSet = "KeyManager"
	// RotationManager creates and deletes rotation triggers: webhooks that
	// the server calls, which is why no other set grants it.
	RotationManager PermissionSet = "RotationManager"
)

// PermissionSets lists every permission set.
var PermissionSets = []PermissionSet{
	SecretManagerFullAccess, SecretManagerReadOnly, SecretManagerSecretAccess,
	SecretManagerSecretCreate, SecretManagerSecretDelete, IAMManager, AuditReader, KeyManager,
	RotationManager,
}

// Valid reports whether s is a known permission set.
func (s PermissionSet) Valid() bool {
	for _, p := range PermissionSets {
		if p == s {
			return true
		}
	}
	return false
}

// Policy grants a principal permission sets on one project, or on every
// project of its organization, optionally only below a path.
type Policy struct {
	ID             string
	OrganizationID string
	PrincipalID    string
	// ProjectID is the project the rule applies to; empty means every
	// project of the organization.
	ProjectID string
	// PathPrefix limits the rule to secrets whose path is PathPrefix or
	// lies below it; "/" means the whole project.
	PathPrefix     string
	PermissionSets []PermissionSet
	CreatedAt      time.Time
}

// PolicyCreate describes a new policy.
type PolicyCreate struct {
	PrincipalID    string
	ProjectID      string
	PathPrefix     string
	PermissionSets []PermissionSet
}

// PrincipalCreate describes a new principal.
type PrincipalCreate struct {
	Kind PrincipalKind
	Name string
	// Admin makes an admin principal, which may do everything in its
	// organization; only an admin may create one.
	Admin bool
}

// APIKeyCreate describes a new API key.
type APIKeyCreate struct {
	PrincipalID string
	// DefaultProjectID defaults to the caller's default project.
	DefaultProjectID string
	Description      string
	ExpiresAt        *time.Time
}

// APIKeySecret is a new API key with its secret key, shown this once.
type APIKeySecret struct {
	APIKey
	SecretKey string
}

// OrganizationCreated is a new organization with its project "default" and
// the credentials of its admin principal, whose secret key is shown this
// once.
type OrganizationCreated struct {
	Organization     *Organization
	ProjectID        string
	AdminPrincipalID string
	AccessKey        string
	SecretKey        string
}

// OrganizationService manages organizations. The organization a store was
// bootstrapped with is the system organization, and its admin principals
// are operators: they see every organization and create new ones. Other
// callers that manage IAM see only their own organization; the others do
// not exist for them.
type OrganizationService interface {
	// CreateOrganization creates an organization with its project
	// "default", an admin principal "admin" and an API key for it, all at
	// once. Returns EINVALID, ECONFLICT (a taken name), EFORBIDDEN (not an
	// operator).
	CreateOrganization(ctx context.Context, name string) (*OrganizationCreated, error)
	// GetOrganization returns EINVALID, ENOTFOUND, EFORBIDDEN.
	GetOrganization(ctx context.Context, id string) (*Organization, error)
	// ListOrganizations returns the organizations the caller may see, oldest
	// first. Returns EFORBIDDEN.
	ListOrganizations(ctx context.Context) ([]*Organization, error)
}

// IAMService manages organizations, projects, principals, API keys and
// policies. Callers need an admin principal or IAMManager on all projects
// of the organization.
type IAMService interface {
	OrganizationService

	// CreateProject returns EINVALID, ECONFLICT, EFORBIDDEN.
	CreateProject(ctx context.Context, name string) (*Project, error)
	// ListProjects returns the projects of the caller's organization that
	// it may see.
	ListProjects(ctx context.Context) ([]*Project, error)

	// CreatePrincipal returns EINVALID, EFORBIDDEN (an admin principal asked
	// by a caller that is not an admin).
	CreatePrincipal(ctx context.Context, in PrincipalCreate) (*Principal, error)
	// GetPrincipal returns EINVALID, ENOTFOUND, EFORBIDDEN.
	GetPrincipal(ctx context.Context, id string) (*Principal, error)
	// ListPrincipals returns EFORBIDDEN.
	ListPrincipals(ctx context.Context) ([]*Principal, error)
	// DeletePrincipal deletes a principal, its keys, certificates and
	// policies. Returns EINVALID, ENOTFOUND, EFORBIDDEN, EPRECONDITION (the
	// caller itself).
	DeletePrincipal(ctx context.Context, id string) error

	// CreateAPIKey returns EINVALID, ENOTFOUND, EFORBIDDEN.
	CreateAPIKey(ctx context.Context, in APIKeyCreate) (*APIKeySecret, error)
	// ListAPIKeys lists a principal's keys, or all the organization's keys
	// for an empty principalID. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
	ListAPIKeys(ctx context.Context, principalID string) ([]*APIKey, error)
	// SetAPIKeyDisabled disables or enables a key. Returns ENOTFOUND,
	// EFORBIDDEN.
	SetAPIKeyDisabled(ctx context.Context, accessKey string, disabled bool) (*APIKey, error)
	// DeleteAPIKey returns ENOTFOUND, EFORBIDDEN.
	DeleteAPIKey(ctx context.Context, accessKey string) error

	// CreatePolicy returns EINVALID, ENOTFOUND, EFORBIDDEN.
	CreatePolicy(ctx context.Context, in PolicyCreate) (*Policy, error)
	// ListPolicies lists a principal's policies, or all the organization's
	// for an empty principalID. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
	ListPolicies(ctx context.Context, principalID string) ([]*Policy, error)
	// DeletePolicy returns ENOTFOUND, EFORBIDDEN.
	DeletePolicy(ctx context.Context, id string) error
}
