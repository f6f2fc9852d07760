package coffer

import (
	"context"
	"time"
)

// VersionPatch turns the data of a secret's current version into the data of
// its next version.
type VersionPatch struct {
	// Patch is a JSON merge patch (RFC 7396), a JSON object: its members
	// replace those of the current data, null members remove them, and
	// object members are merged recursively.
	Patch Payload
	// CAS, when set, is the check-and-set revision, as in VersionCreate.
	CAS *uint32
}

// VersionRead asks for one version of the secret at a path, as the dialects
// that name secrets by path read them.
type VersionRead struct {
	ProjectID string
	// Path is the secret's folder and Name its name, as in SecretCreate.
	Path string
	Name string
	// Revision is the version's number; 0 is the secret's current version,
	// its last revision (Vault's current_version), destroyed or not.
	Revision uint32
	// Data asks for the version's data, which needs the right to access
	// secrets; without it, only the metadata is read, which needs the right
	// to read them, nothing is opened and no ephemeral policy fires.
	Data bool
	// JSONObject refuses data that is not exactly one JSON object, before
	// any ephemeral policy fires: the version is then left as it was.
	JSONObject bool
}

// VersionReadout is what ReadVersion found.
type VersionReadout struct {
	Secret *Secret
	// Version is nil when the secret has no version yet and the current
	// one was asked for.
	Version *Version
	// Readable reports whether the version's data can be read: it is
	// enabled and its expiry, if any, has not passed. (Readable is about
	// the version: a read with Data of a secret scheduled for deletion is
	// refused, EPRECONDITION.)
	Readable bool
	// Data is the version's data, when it was asked for and is readable.
	// The caller must Wipe it when done.
	Data Payload
}

// ProjectSettingsUpdate holds the project settings to change; nil fields are
// left alone.
type ProjectSettingsUpdate struct {
	MaxVersions *int
	CASRequired *bool
	// VersionTTL 0 clears the project's version TTL; a negative one makes
	// new versions of every secret of the project live forever, whatever
	// their secret's VersionTTL.
	VersionTTL *time.Duration
	// DeletionDelay 0 restores coffer's default, DeletionDelay; else from
	// MinDeletionDelay to MaxDeletionDelay.
	DeletionDelay *time.Duration
}

// KeyValueService is what the dialects that address secrets by their full
// path and hold JSON objects in them (Vault KV v2, OKMS) need beyond
// SecretService and ProjectService. Every method acts for the caller in ctx.
type KeyValueService interface {
	// PatchVersion merges p into the data of the secret's current version,
	// its last revision, and writes the result as a new version, in one
	// transaction. When the current version cannot be read (EPRECONDITION
	// about the secret_version), the version returned is that version, so
	// that the caller can tell why. Returns EINVALID, ENOTFOUND (secret, or
	// no version yet), EPRECONDITION (current version not readable or not a
	// JSON object, check-and-set, secret scheduled for deletion), ECONFLICT,
	// EQUOTA.
	PatchVersion(ctx context.Context, secretID string, p VersionPatch) (*Secret, *Version, error)

	// ReadVersion reads one version of the secret at a path in one call: the
	// secret, the version's metadata, whether it is readable and, when
	// asked for and readable, its data. A version that exists but cannot be
	// read (disabled, scheduled for deletion, expired, destroyed) comes back
	// as metadata with Readable false. Every refusal happens before an
	// expire-once-accessed policy fires, so that a refused read leaves the
	// version as it was; a read whose expiry has passed applies it. Returns
	// EINVALID, ENOTFOUND (secret, or version), EFORBIDDEN, EPRECONDITION
	// (secret scheduled for deletion; data not a JSON object, about the
	// secret_version, with PreconditionNotJSONObject).
	ReadVersion(ctx context.Context, in VersionRead) (*VersionReadout, error)

	// PutSecret applies u to the secret at c's project, path and name,
	// creating that secret from c first when there is none; it reports
	// whether it created it. u may not rename or move the secret.
	// Returns EINVALID, ENOTFOUND (project), EPRECONDITION (secret scheduled
	// for deletion), EQUOTA, EFORBIDDEN.
	PutSecret(ctx context.Context, c SecretCreate, u SecretUpdate) (*Secret, bool, error)

	// ChangeProjectSettings changes some of a project's settings.
	// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
	ChangeProjectSettings(ctx context.Context, id string, u ProjectSettingsUpdate) (*Project, error)

	// ListKeys returns one page of the keys directly in a folder of a
	// project, in byte order: its secrets, keyed by name, and its
	// sub-folders holding a secret the caller may read, keyed by name and
	// a slash. Secrets scheduled for deletion are left out. A page costs
	// its size, not the folder's. Returns EINVALID, ENOTFOUND (project),
	// EFORBIDDEN.
	ListKeys(ctx context.Context, f KeyFilter) ([]KeyEntry, error)
}

// KeyFilter selects a page of the keys of a folder for ListKeys.
type KeyFilter struct {
	ProjectID string
	// Folder is a folder path: "/", "/a/b".
	Folder string
	// After keeps the keys after it in byte order; "" keeps all.
	After string
	// Limit is the most keys returned; 0, or beyond the engine's page
	// size, means the engine's page size.
	Limit int
	// Versions asks for each secret and its versions with its key.
	Versions bool
}

// KeyEntry is one key of a folder.
type KeyEntry struct {
	// Key is a secret's name, or a sub-folder's name and a slash.
	Key string
	// Secret, with KeyFilter.Versions, is the secret of a secret's key.
	Secret *Secret
	// Versions, with KeyFilter.Versions, are the secret's versions
	// without data, newest first.
	Versions []*Version
}
