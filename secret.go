package coffer

import (
	"context"
	"time"
)

// SecretType says what a secret's versions hold and how their data is checked.
type SecretType string

// Secret types. Their payload rules live in the engine.
const (
	TypeOpaque              SecretType = "opaque"
	TypeCertificate         SecretType = "certificate"
	TypeKeyValue            SecretType = "key_value"
	TypeBasicCredentials    SecretType = "basic_credentials"
	TypeDatabaseCredentials SecretType = "database_credentials"
	TypeSSHKey              SecretType = "ssh_key"
)

// SecretTypes lists every secret type, in the order ListSecretTypes uses.
var SecretTypes = [...]SecretType{
	TypeOpaque, TypeCertificate, TypeKeyValue,
	TypeBasicCredentials, TypeDatabaseCredentials, TypeSSHKey,
}

// Valid reports whether t is a known secret type.
func (t SecretType) Valid() bool {
	for _, v := range SecretTypes {
		if t == v {
			return true
		}
	}
	return false
}

// SecretState is the lifecycle state of a whole secret.
type SecretState string

// Secret states.
const (
	SecretEnabled           SecretState = "enabled"
	SecretDisabled          SecretState = "disabled"
	SecretDeletionScheduled SecretState = "deletion_scheduled"
	SecretRotating          SecretState = "rotating"
)

// EphemeralAction is what happens to a version when its ephemeral policy fires.
type EphemeralAction string

// Ephemeral actions.
const (
	EphemeralDisable EphemeralAction = "disable"
	EphemeralDelete  EphemeralAction = "delete"
)

// EphemeralPolicy makes every new version of a secret short-lived.
type EphemeralPolicy struct {
	// TTL is how long a new version lives; 0 means no time limit.
	TTL time.Duration
	// ExpiresOnceAccessed fires the action right after the first access.
	ExpiresOnceAccessed bool
	// Action is applied when the version expires.
	Action EphemeralAction
}

// RotationPolicy describes automatic rotation (NAVER, IMCO). A rotation job
// writes a pending version and promotes it on completion.
type RotationPolicy struct {
	Enabled   bool
	Period    time.Duration
	NextRunAt *time.Time
	// Targets are the keys of a key_value secret's data that a rotation
	// replaces (NAVER's rotationTargets).
	Targets []string
	// LastRunAt is when a rotation last completed.
	LastRunAt *time.Time
	// Job is the latest rotation job, open or not.
	Job *RotationJob
	// TriggerID is the trigger (webhook) a job of this secret fires; empty
	// when none is linked.
	TriggerID string
}

// RotateAt returns when the scheduler must next look at the secret: the
// open job's deadline, else the next automatic rotation; nil for neither.
func (p *RotationPolicy) RotateAt() *time.Time {
	switch {
	case p == nil:
		return nil
	case p.Job != nil && p.Job.State.Open() && !p.Job.Deadline.IsZero():
		return &p.Job.Deadline
	case p.Enabled && p.NextRunAt != nil:
		return p.NextRunAt
	}
	return nil
}

// Stages are labels on versions held by the secret.
const (
	StageActive   = "active"
	StagePrevious = "previous"
	StagePending  = "pending"
)

// Secret is a logical container of immutable, numbered versions.
type Secret struct {
	ID        string
	ProjectID string
	// Path is the folder, "/" or "/a/b" (no trailing slash).
	Path string
	// Name is unique within (ProjectID, Path).
	Name        string
	Type        SecretType
	Description string
	Tags        []string
	Protected   bool
	// UsedBy lists the products that own the secret (Scaleway add-owner).
	UsedBy         []string
	CustomMetadata map[string]string

	// MaxVersions caps the number of versions kept; 0 uses the project's.
	MaxVersions int
	// CASRequired makes every write carry a check-and-set revision.
	CASRequired bool
	// VersionTTL disables versions this long after they are written
	// (Vault delete_version_after, OKMS deactivate_version_after); 0 = never.
	VersionTTL time.Duration
	Ephemeral  *EphemeralPolicy
	Rotation   *RotationPolicy

	// KeyID names the protection key; "" means the project's default key.
	KeyID      string
	KeyVaultID string

	State               SecretState
	DeletionRequestedAt *time.Time
	// PurgeAt is when a secret scheduled for deletion is removed for good.
	PurgeAt *time.Time

	// LastRevision is the highest revision ever written; revisions are
	// never reused, so the next one is LastRevision+1.
	LastRevision uint32
	// LatestRevision is the highest revision that still exists (not
	// destroyed); 0 when there is none.
	LatestRevision uint32
	// OldestRevision is the lowest revision still stored (0 before pruning
	// has removed any).
	OldestRevision uint32
	// VersionCount counts stored versions that are not destroyed.
	VersionCount int
	// Stages maps a stage name to the revision that holds it.
	Stages map[string]uint32

	CreatedAt time.Time
	UpdatedAt time.Time
}

// FullPath returns the secret's path and name joined without a leading slash:
// the key Vault and OKMS use ("a/b/c" for path "/a/b", name "c").
func (s *Secret) FullPath() string {
	if s.Path == "/" || s.Path == "" {
		return s.Name
	}
	return s.Path[1:] + "/" + s.Name
}

// SplitFullPath splits a Vault-style key "a/b/c" into the folder "/a/b" and the
// name "c". It does not validate; the engine does.
func SplitFullPath(full string) (path, name string) {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '/' {
			return "/" + full[:i], full[i+1:]
		}
	}
	return "/", full
}

// SecretCreate holds the fields of a new secret.
type SecretCreate struct {
	ProjectID      string
	Path           string
	Name           string
	Type           SecretType
	Description    string
	Tags           []string
	Protected      bool
	CustomMetadata map[string]string
	MaxVersions    int
	CASRequired    bool
	VersionTTL     time.Duration
	Ephemeral      *EphemeralPolicy
	KeyID          string
	KeyVaultID     string
}

// SecretUpdate holds the fields to change; nil fields are left alone.
type SecretUpdate struct {
	Name           *string
	Path           *string
	Description    *string
	Tags           *[]string
	CustomMetadata *map[string]string
	MaxVersions    *int
	CASRequired    *bool
	VersionTTL     *time.Duration
	Ephemeral      *EphemeralPolicy

	// CustomMetadataMerge changes single keys of the custom metadata, after
	// CustomMetadata: a nil value removes its key, others set theirs.
	CustomMetadataMerge map[string]*string
}

// SecretOrder is the sort order of a secret listing.
type SecretOrder string

// Secret orders; ties are broken by id.
const (
	OrderNameAsc       SecretOrder = "name_asc"
	OrderNameDesc      SecretOrder = "name_desc"
	OrderCreatedAtAsc  SecretOrder = "created_at_asc"
	OrderCreatedAtDesc SecretOrder = "created_at_desc"
	OrderUpdatedAtAsc  SecretOrder = "updated_at_asc"
	OrderUpdatedAtDesc SecretOrder = "updated_at_desc"
)

// Valid reports whether o is a known order.
func (o SecretOrder) Valid() bool {
	switch o {
	case OrderNameAsc, OrderNameDesc, OrderCreatedAtAsc, OrderCreatedAtDesc, OrderUpdatedAtAsc, OrderUpdatedAtDesc:
		return true
	}
	return false
}

// SecretFilter selects secrets. Zero fields do not filter.
type SecretFilter struct {
	// ProjectID limits the listing to one project; "" means every project
	// the caller may see.
	ProjectID string
	// OrganizationID limits the listing to one organization's projects.
	OrganizationID string
	Name           string
	Path           string
	// PathPrefix selects secrets whose path is PathPrefix or lies below it.
	PathPrefix string
	// Tags selects secrets that carry every one of these tags.
	Tags      []string
	Type      SecretType
	Ephemeral *bool
	// ScheduledForDeletion selects, when true, only secrets scheduled for
	// deletion, and when false only the others.
	ScheduledForDeletion bool
	Order                SecretOrder
	Offset               int
	Limit                int // 0: no limit
}

// BrowseItem is one entry of a folder listing: a secret or a sub-folder.
type BrowseItem struct {
	Name      string
	Secret    *Secret // nil for a folder
	CreatedAt *time.Time
	UpdatedAt *time.Time
}

// BrowseFilter selects the direct children of a folder.
type BrowseFilter struct {
	ProjectID string
	Prefix    string
	Tags      []string
	Type      SecretType
	Order     SecretOrder
	Offset    int
	Limit     int
}

// SecretService manages secrets and their versions. Every method acts for the
// caller in ctx (see NewContextWithCaller) and returns ENOTFOUND for a secret
// the caller may not see.
type SecretService interface {
	// CreateSecret creates a secret with no version.
	// Returns EINVALID, ENOTFOUND (project), ECONFLICT (path and name taken),
	// EQUOTA, EFORBIDDEN.
	CreateSecret(ctx context.Context, c SecretCreate) (*Secret, error)

	// GetSecret returns a secret by id, also one scheduled for deletion.
	// Returns ENOTFOUND.
	GetSecret(ctx context.Context, id string) (*Secret, error)

	// GetSecretByPath returns the secret at (project, path, name).
	// Returns EINVALID, ENOTFOUND.
	GetSecretByPath(ctx context.Context, projectID, path, name string) (*Secret, error)

	// LocateSecret returns the secret at (project, path, name) to a caller
	// with any right on secrets there, for a dialect that names secrets by
	// path and then calls an operation by id, which checks the right it
	// needs. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
	LocateSecret(ctx context.Context, projectID, path, name string) (*Secret, error)

	// UpdateSecret changes a secret's settings.
	// Returns EINVALID, ENOTFOUND, ECONFLICT, EPRECONDITION (scheduled for deletion).
	UpdateSecret(ctx context.Context, id string, u SecretUpdate) (*Secret, error)

	// DeleteSecret schedules a secret for deletion (ephemeral secrets are
	// removed at once). Returns ENOTFOUND, EPRECONDITION (protected).
	DeleteSecret(ctx context.Context, id string) error

	// PurgeSecret removes a secret and all its versions at once, whatever
	// its state. Returns ENOTFOUND, EPRECONDITION (protected).
	PurgeSecret(ctx context.Context, id string) error

	// RestoreSecret cancels a scheduled deletion, with the versions that were
	// scheduled too. Returns ENOTFOUND, EPRECONDITION (not scheduled).
	RestoreSecret(ctx context.Context, id string) (*Secret, error)

	// SetProtected protects or unprotects a secret against deletion.
	// Returns ENOTFOUND.
	SetProtected(ctx context.Context, id string, protected bool) (*Secret, error)

	// AddSecretOwner records that a product uses the secret.
	// Returns EINVALID, ENOTFOUND.
	AddSecretOwner(ctx context.Context, id, product string) error

	// ListSecrets returns one page of matching secrets and the total count.
	// Returns EINVALID, ENOTFOUND (project).
	ListSecrets(ctx context.Context, f SecretFilter) ([]*Secret, int, error)

	// BrowseSecrets lists the secrets and folders directly in a folder.
	// Returns EINVALID, ENOTFOUND (project).
	BrowseSecrets(ctx context.Context, f BrowseFilter) ([]BrowseItem, int, error)

	// ListTags returns one page of the distinct tags of a project's secrets.
	ListTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error)

	// ListSecretTypes returns the distinct types of a project's secrets.
	ListSecretTypes(ctx context.Context, projectID string, offset, limit int) ([]SecretType, int, error)

	VersionService
}
