// Package storage defines the small interface coffer keeps its records
// behind, the record types that are not domain types, and the typed errors
// every backend returns.
//
// Storage is untrusted: it never sees plaintext. Version data, API secret keys
// and key-encryption keys reach it sealed, as opaque bytes. It holds no
// business rule either: the engine decides, the store records. Backends
// (internal/sqlite, internal/postgres) pass the conformance suite in
// storagetest.
package storage

import (
	"context"
	"errors"
	"time"

	"github.com/coffer-dev/coffer"
)

// Errors every backend returns, classified from driver error codes.
var (
	// ErrNotFound means no record matched.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict means a uniqueness constraint was violated, or a
	// serialization failure lost against a concurrent transaction.
	ErrConflict = errors.New("storage: conflict")
	// ErrFull means the store has no space left for a write (SQLite's
	// SQLITE_FULL, PostgreSQL's disk_full): the store refuses changes
	// until space is freed, and nothing of the failed one is kept.
	ErrFull = errors.New("storage: no space left")
)

// Store gives transactions over coffer's records.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil. A commit is durable when Update returns. Within Update,
	// GetSecret and GetSecretByPath lock the secret's row, and GetMeta the
	// value's name, until the transaction ends, so that writers of one
	// secret or one meta value are serialized across every node. Update
	// does not retry: a transaction that loses a race against another
	// node fails with ErrConflict, and fn runs once.
	Update(ctx context.Context, fn func(Tx) error) error
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Tx is one transaction. Its methods return ErrNotFound and ErrConflict as
// documented, and other errors for faults. A Tx must not be used after the
// function it was passed to returns.
type Tx interface {
	// GetMeta returns a named value. Returns ErrNotFound. Inside Update it
	// locks the name, whether a value exists or not, so that a transaction
	// that reads a name and writes it when missing (a first start, the root
	// key check) runs alone: one that waited sees the value the first
	// committed.
	GetMeta(ctx context.Context, name string) ([]byte, error)
	// PutMeta creates or replaces a named value.
	PutMeta(ctx context.Context, name string, value []byte) error

	// CreateOrganization returns ErrConflict for a taken id.
	CreateOrganization(ctx context.Context, o *coffer.Organization) error
	// GetOrganization returns ErrNotFound.
	GetOrganization(ctx context.Context, id string) (*coffer.Organization, error)

	// CreateProject returns ErrConflict for a taken id or (organization, name).
	CreateProject(ctx context.Context, p *coffer.Project) error
	// GetProject returns ErrNotFound.
	GetProject(ctx context.Context, id string) (*coffer.Project, error)
	// UpdateProject replaces a project's name and settings. Returns ErrNotFound.
	UpdateProject(ctx context.Context, p *coffer.Project) error
	// ListProjects returns an organization's projects ordered by name.
	ListProjects(ctx context.Context, organizationID string) ([]*coffer.Project, error)

	// CreatePrincipal returns ErrConflict for a taken id.
	CreatePrincipal(ctx context.Context, p *coffer.Principal) error
	// GetPrincipal returns ErrNotFound.
	GetPrincipal(ctx context.Context, id string) (*coffer.Principal, error)

	// CreateAPIKey returns ErrConflict for a taken access key or secret hash.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey returns the key with this access key. Returns ErrNotFound.
	GetAPIKey(ctx context.Context, accessKey string) (*APIKey, error)
	// GetAPIKeyBySecretHash returns the key whose SecretHash is hash.
	// Returns ErrNotFound.
	GetAPIKeyBySecretHash(ctx context.Context, hash []byte) (*APIKey, error)
	// UpdateAPIKey replaces a key's description, disabled flag and expiry.
	// Returns ErrNotFound.
	UpdateAPIKey(ctx context.Context, k *APIKey) error

	// CreateKey records a protection key. Returns ErrConflict for a taken id,
	// or a second default key in one project.
	CreateKey(ctx context.Context, k *Key) error
	// GetKey returns ErrNotFound.
	GetKey(ctx context.Context, id string) (*Key, error)
	// GetDefaultKey returns a project's default key. Returns ErrNotFound.
	GetDefaultKey(ctx context.Context, projectID string) (*Key, error)
	// CreateKeyVersion returns ErrConflict for a taken (key, version).
	CreateKeyVersion(ctx context.Context, v *KeyVersion) error
	// GetKeyVersion returns ErrNotFound.
	GetKeyVersion(ctx context.Context, keyID string, version uint32) (*KeyVersion, error)
	// LatestKeyVersion returns a key's highest version. Returns ErrNotFound.
	LatestKeyVersion(ctx context.Context, keyID string) (*KeyVersion, error)

	// CreateSecret returns ErrConflict for a taken id or (project, path, name).
	CreateSecret(ctx context.Context, s *coffer.Secret) error
	// GetSecret returns ErrNotFound. Inside Update it locks the row.
	GetSecret(ctx context.Context, id string) (*coffer.Secret, error)
	// GetSecretByPath returns ErrNotFound. Inside Update it locks the row.
	GetSecretByPath(ctx context.Context, projectID, path, name string) (*coffer.Secret, error)
	// UpdateSecret replaces every field of a secret but its id, project and
	// creation time. Returns ErrNotFound, ErrConflict for a taken (project,
	// path, name).
	UpdateSecret(ctx context.Context, s *coffer.Secret) error
	// DeleteSecret removes a secret and all its versions. Returns ErrNotFound.
	DeleteSecret(ctx context.Context, id string) error
	// ListSecrets returns one page of matching secrets and the number of
	// matches across all pages.
	ListSecrets(ctx context.Context, q SecretQuery) ([]*coffer.Secret, int, error)
	// ListTags returns one page of the distinct tags of a project's secrets
	// in byte order, and their number.
	ListTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error)
	// ListSecretTypes returns the distinct types of a project's secrets in
	// byte order.
	ListSecretTypes(ctx context.Context, projectID string) ([]coffer.SecretType, error)
	// ListFolderKeys returns, in byte order of their keys, the first
	// q.Limit entries of a folder whose keys come after q.After: its
	// secrets, keyed by name, and its sub-folders, keyed by name and a
	// slash. It reads the entries it returns, not the folder: a page costs
	// its size, whatever the size of the folder.
	ListFolderKeys(ctx context.Context, q KeyQuery) ([]FolderKey, error)
	// BrowseFolder returns one page of the entries of a folder, in q.Order,
	// and their number: the secrets in it, and its sub-folders with the
	// earliest creation and the latest update of the secrets below them.
	BrowseFolder(ctx context.Context, q BrowseQuery) ([]coffer.BrowseItem, int, error)

	// CreateVersion returns ErrConflict for a taken (secret, revision), and
	// ErrNotFound when the secret does not exist.
	CreateVersion(ctx context.Context, v *Version) error
	// GetVersion returns a version with its sealed data. Returns ErrNotFound.
	GetVersion(ctx context.Context, secretID string, revision uint32) (*Version, error)
	// UpdateVersion replaces every field of a version but its key and
	// creation time, its sealed data included. Returns ErrNotFound.
	UpdateVersion(ctx context.Context, v *Version) error
	// DeleteVersion removes a version. Returns ErrNotFound.
	DeleteVersion(ctx context.Context, secretID string, revision uint32) error
	// ListVersions returns one page of a secret's matching versions without
	// their data, and the number of matches across all pages.
	ListVersions(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*Version, int, error)
	// ListSecretsVersions returns the versions of several secrets without
	// their data, grouped by secret in the order of secretIDs, each
	// secret's newest first.
	ListSecretsVersions(ctx context.Context, secretIDs []string) ([]*Version, error)

	// DueVersions returns up to limit versions that the scheduler must act
	// on at time now: enabled versions whose ephemeral ExpiresAt is not after
	// now, and versions scheduled for deletion whose PurgeAt is not after
	// now. Without data, oldest due first.
	DueVersions(ctx context.Context, now time.Time, limit int) ([]*Version, error)
	// DueSecrets returns up to limit secrets scheduled for deletion whose
	// PurgeAt is not after now.
	DueSecrets(ctx context.Context, now time.Time, limit int) ([]*coffer.Secret, error)
}

// SecretQuery selects secrets for ListSecrets. Zero fields do not filter.
type SecretQuery struct {
	// ProjectIDs limits the query to these projects; it is never empty.
	ProjectIDs []string
	Name       string
	Path       string
	// PathPrefix keeps secrets whose path is PathPrefix or lies below it
	// ("/a" keeps "/a" and "/a/b", not "/ab").
	PathPrefix string
	// PathPrefixes, when not empty, keeps secrets whose path is one of them
	// or lies below one of them, by the rule of PathPrefix. It applies on
	// top of PathPrefix: it is how a caller limited to some paths lists.
	PathPrefixes []string
	// Tags keeps secrets that carry all of them.
	Tags      []string
	Type      coffer.SecretType
	Ephemeral *bool
	// ScheduledForDeletion keeps, when set, only secrets whose state is or
	// is not SecretDeletionScheduled.
	ScheduledForDeletion *bool
	// Order defaults to name ascending; names compare as bytes; ties are
	// broken by id.
	Order  coffer.SecretOrder
	Offset int
	// Limit 0 means no limit.
	Limit int
}

// FolderQuery selects the entries directly in a folder: the secrets whose
// path is the folder, and the sub-folders below which, at any depth, lies
// a secret. Only secrets that match make entries, and secrets scheduled for
// deletion never do.
type FolderQuery struct {
	// ProjectIDs are the projects whose folders are listed as one; never
	// empty.
	ProjectIDs []string
	// Folder is a normalized path: "/", "/a/b".
	Folder string
	// PathPrefixes limits the secrets as in SecretQuery.
	PathPrefixes []string
	// Tags keeps secrets that carry all of them.
	Tags []string
	Type coffer.SecretType
}

// KeyQuery selects a page of a folder's entries in byte order of their
// keys, for ListFolderKeys.
type KeyQuery struct {
	FolderQuery
	// After keeps the entries whose key is after it; "" keeps all.
	After string
	// Limit is the most entries returned; it is positive.
	Limit int
	// Secrets asks for the secret of each secret entry; without it, only
	// keys are read.
	Secrets bool
}

// FolderKey is one entry of ListFolderKeys.
type FolderKey struct {
	// Key is a secret's name, or a sub-folder's name and a slash.
	Key string
	// Secret is the secret of a secret entry when KeyQuery.Secrets is
	// set; nil for a sub-folder.
	Secret *coffer.Secret
}

// BrowseQuery selects a page of a folder's entries for BrowseFolder.
type BrowseQuery struct {
	FolderQuery
	// Order sorts entries by name (a sub-folder before a secret of the
	// same name, secrets of one name by id) or by time (a sub-folder's
	// times are the earliest creation and the latest update of the
	// secrets below it; ties are broken as for names). It defaults to
	// name ascending.
	Order  coffer.SecretOrder
	Offset int
	// Limit 0 means no limit.
	Limit int
}

// Version is a version with its sealed data.
type Version struct {
	coffer.Version
	// ProjectID is the project of the version's secret.
	ProjectID string
	// Data is the sealed payload, nil once destroyed and in listings.
	Data []byte
}

// APIKey is an API key with its credentials in the forms storage keeps.
type APIKey struct {
	coffer.APIKey
	// SecretHash is SHA-256 of the secret key, to find the key by it.
	SecretHash []byte
	// SealedSecret is the secret key sealed under the root key; signature
	// schemes (NAVER HMAC) need it back.
	SealedSecret []byte
}

// Key is a protection key (key-encryption key) of a project.
type Key struct {
	ID        string
	ProjectID string
	Name      string
	// Default marks the project's default key; one per project.
	Default   bool
	CreatedAt time.Time
}

// KeyVersion is one version of a protection key, wrapped by the root key.
type KeyVersion struct {
	KeyID     string
	Version   uint32
	Wrapped   []byte
	CreatedAt time.Time
}
