package coffer

import (
	"bytes"
	"context"
	"time"
)

// DeployState is where a key vault or a secret of one stands in its
// deployment to the vault's target (IMCO's states).
type DeployState string

// Deployment states. A secret of a vault with no target is available as
// soon as it is written; one of a bound vault goes from start through
// deploying to available, and back through updating_versions on each new
// version; a failure lands in stalled (never deployed) or updating_error
// (deployed before), from which retry resumes. Deleting decommissions the
// remote copy, then ends.
const (
	DeployStart            DeployState = "start"
	DeployDeploying        DeployState = "deploying"
	DeployAvailable        DeployState = "available"
	DeployUpdatingVersions DeployState = "updating_versions"
	DeployUpdatingError    DeployState = "updating_error"
	DeployStalled          DeployState = "stalled"
	DeployDecommissioning  DeployState = "decommissioning"
	DeployEnd              DeployState = "end"
)

// Failed reports whether s is a state that waits for a retry.
func (s DeployState) Failed() bool { return s == DeployStalled || s == DeployUpdatingError }

// TargetKind is the kind of secret manager a key vault deploys to.
type TargetKind string

// Target kinds.
const (
	// TargetNone keeps the vault's secrets in coffer only.
	TargetNone TargetKind = "none"
	// TargetVault is a HashiCorp Vault KV v2 mount.
	TargetVault TargetKind = "vault"
	// TargetScaleway is a Scaleway-compatible Secret Manager.
	TargetScaleway TargetKind = "scaleway"
	// TargetOKMS is an OVHcloud OKMS domain's Secret Manager (API v2).
	TargetOKMS TargetKind = "okms"
	// TargetNCloud is a NAVER Cloud Secret Manager.
	TargetNCloud TargetKind = "ncloud"
)

// Target is where a key vault deploys its secrets. Credential is the Vault
// token, the Scaleway or NAVER secret key, or the OKMS token or access
// certificate:
// it is sealed at rest and never leaves the engine in an answer.
type Target struct {
	Kind TargetKind
	// Address is the Vault address, the Scaleway API URL, the OKMS
	// regional endpoint or the NAVER host (with its path, such as a
	// regional host's /secretmanager).
	Address string
	// Mount is the Vault KV v2 mount ("secret" when empty).
	Mount string
	// Namespace is the Vault namespace, if any.
	Namespace string
	// Project and Region are the Scaleway project and region.
	Project string
	Region  string
	// OKMSID is the OKMS domain (okmsId).
	OKMSID string
	// AccessKey is the NAVER API key's access key; its secret key is the
	// credential.
	AccessKey string
	// CACertificate, PEM, is the only authority trusted for the target's
	// TLS certificate when set; else the system's roots are.
	CACertificate string
	// Credential is the token or secret key; for OKMS, a bearer token or
	// an access certificate and its private key, PEM.
	Credential Payload
}

// UsesCertificate reports whether t authenticates with a client
// certificate (an OKMS access certificate, PEM) rather than a token.
func (t Target) UsesCertificate() bool {
	return t.Kind == TargetOKMS && bytes.HasPrefix(bytes.TrimSpace(t.Credential), []byte("-----BEGIN"))
}

// Public returns t without its credential.
func (t Target) Public() Target {
	t.Credential = nil
	return t
}

// KeyVault is a folder of a project whose secrets are deployed to a target
// (IMCO's key vault). Its secrets are the project's secrets in Path, the
// ones every dialect sees there.
type KeyVault struct {
	ID        string
	ProjectID string
	Name      string
	// Path is the folder that holds the vault's secrets.
	Path string
	// Target is the vault's target, without its credential.
	Target     Target
	State      DeployState
	RemoteID   string
	Brownfield bool
	LabelIDs   []string
	// LastError says why the last deployment action failed.
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// KeyVaultCreate holds the fields of a new key vault. Path defaults to
// "/" + Name; Target.Kind to TargetNone.
type KeyVaultCreate struct {
	ProjectID string
	Name      string
	Path      string
	LabelIDs  []string
	Target    Target
}

// KeyVaultUpdate holds the fields to change; nil fields are left alone.
// Of the target, what says how to reach it may change (a rotated
// credential, a moved address, a renewed authority); what says which
// remote secret manager it is (kind, mount, namespace, project, region,
// okmsId) may not, as the deployed secrets' remote ids belong to it.
type KeyVaultUpdate struct {
	Name     *string
	LabelIDs *[]string
	// TargetAddress, TargetCACertificate, TargetAccessKey (NAVER's, with
	// its secret key as the new credential) and TargetCredential change
	// the target's; a vault without target refuses them.
	TargetAddress       *string
	TargetCACertificate *string
	TargetAccessKey     *string
	TargetCredential    Payload
}

// Deployment is the deployment of one secret of a key vault to the vault's
// target.
type Deployment struct {
	SecretID        string
	KeyVaultID      string
	ProjectID       string
	State           DeployState
	RemoteID        string
	DesiredRemoteID string
	Brownfield      bool
	LabelIDs        []string
	// PushedRevision is the newest revision the target holds.
	PushedRevision uint32
	// Attempts counts failed attempts since the last success.
	Attempts int
	// NextAttemptAt is when a failed deployment is tried again on its own;
	// nil when it waits for a retry.
	NextAttemptAt *time.Time
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// VaultSecret is a secret of a key vault with its deployment.
type VaultSecret struct {
	Secret     *Secret
	Deployment *Deployment
}

// VaultSecretCreate holds the fields of a new secret of a key vault.
type VaultSecretCreate struct {
	Name            string
	Content         Payload
	LabelIDs        []string
	DesiredRemoteID string
}

// VaultSecretUpdate holds the fields to change; nil fields are left alone.
type VaultSecretUpdate struct {
	Name     *string
	LabelIDs *[]string
}

// Label is a name that key vaults and their secrets carry (IMCO labels).
type Label struct {
	ID             string
	OrganizationID string
	Name           string
	CreatedAt      time.Time
}

// LabelResource names a labelled resource: a key vault ("key_vault") or a
// secret of one ("secret").
type LabelResource struct {
	ID           string
	ResourceType string
}

// VaultStatus is a key vault with the deployment of each of its secrets.
type VaultStatus struct {
	KeyVault *KeyVault
	Secrets  []*VaultSecret
}

// KeyVaultService manages key vaults, their secrets and their deployment.
// Every method authorizes the caller on the vault's project and folder as
// the secret services do.
type KeyVaultService interface {
	// CreateKeyVault returns EINVALID, ENOTFOUND (project, label),
	// ECONFLICT (name or path taken), EFORBIDDEN.
	CreateKeyVault(ctx context.Context, in KeyVaultCreate) (*KeyVault, error)
	// GetKeyVault returns ENOTFOUND.
	GetKeyVault(ctx context.Context, id string) (*KeyVault, error)
	// ListKeyVaults returns the key vaults of the projects the caller sees.
	ListKeyVaults(ctx context.Context) ([]*KeyVault, error)
	// UpdateKeyVault returns EINVALID, ENOTFOUND, ECONFLICT.
	UpdateKeyVault(ctx context.Context, id string, u KeyVaultUpdate) (*KeyVault, error)
	// DeleteKeyVault removes an empty key vault at once when it has no
	// target, else starts its decommissioning. Returns ENOTFOUND,
	// EPRECONDITION (it holds secrets).
	DeleteKeyVault(ctx context.Context, id string) (*KeyVault, error)

	// CreateVaultSecret creates a secret with its first version in a key
	// vault. Returns EINVALID, ENOTFOUND (vault, label), ECONFLICT,
	// EPRECONDITION (vault decommissioning), EFORBIDDEN.
	CreateVaultSecret(ctx context.Context, keyVaultID string, in VaultSecretCreate) (*VaultSecret, error)
	// GetVaultSecret returns ENOTFOUND for an unknown id and for a secret
	// that is in no key vault.
	GetVaultSecret(ctx context.Context, id string) (*VaultSecret, error)
	// ListVaultSecrets returns the secrets of a key vault. Returns ENOTFOUND.
	ListVaultSecrets(ctx context.Context, keyVaultID string) ([]*VaultSecret, error)
	// UpdateVaultSecret returns EINVALID, ENOTFOUND, ECONFLICT.
	UpdateVaultSecret(ctx context.Context, id string, u VaultSecretUpdate) (*VaultSecret, error)
	// DeleteVaultSecret removes a secret of a vault with no target at once,
	// and starts the decommissioning of one of a bound vault: the secret
	// is removed once the target has forgotten it. Returns ENOTFOUND,
	// EPRECONDITION (protected, or decommissioning already).
	DeleteVaultSecret(ctx context.Context, id string) (*VaultSecret, error)
	// RetryVaultSecret resumes a failed deployment. Returns ENOTFOUND,
	// EPRECONDITION (not stalled nor updating_error).
	RetryVaultSecret(ctx context.Context, id string) (*VaultSecret, error)
	// DiscardVaultSecret forgets an imported (brownfield) secret without
	// touching the target. Returns ENOTFOUND, EPRECONDITION (not
	// brownfield).
	DiscardVaultSecret(ctx context.Context, id string) error
	// ListVaultVersions returns a vault secret's versions, newest first.
	// Returns ENOTFOUND.
	ListVaultVersions(ctx context.Context, secretID string) (*VaultSecret, []*Version, error)
	// CreateVaultVersion adds a version to a vault secret. Returns
	// EINVALID, ENOTFOUND, EPRECONDITION.
	CreateVaultVersion(ctx context.Context, secretID string, content Payload) (*VaultSecret, *Version, error)
	// ImportKeyVault copies the target's secrets that the vault does not
	// hold yet, with their latest value, as brownfield secrets, and
	// returns how many it imported. Returns ENOTFOUND, EPRECONDITION (no
	// target), EUNAVAILABLE (the target failed).
	ImportKeyVault(ctx context.Context, id string) (int, error)

	// SyncStatus returns every key vault the caller sees with the
	// deployment of each of its secrets.
	SyncStatus(ctx context.Context) ([]*VaultStatus, error)

	// CreateLabel returns EINVALID, ECONFLICT.
	CreateLabel(ctx context.Context, name string) (*Label, error)
	// ListLabels returns the labels of the caller's organization.
	ListLabels(ctx context.Context) ([]*Label, error)
	// LabelResources attaches a label to key vaults and secrets, all or
	// none, and returns them. Returns EINVALID, ENOTFOUND (label, vault,
	// secret).
	LabelResources(ctx context.Context, labelID string, rs []LabelResource) ([]LabelResource, error)
	// UnlabelResource detaches a label from a key vault or a secret.
	// Returns EINVALID, ENOTFOUND.
	UnlabelResource(ctx context.Context, labelID string, r LabelResource) error
}
