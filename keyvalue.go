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

// ProjectSettingsUpdate holds the project settings to change; nil fields are
// left alone.
type ProjectSettingsUpdate struct {
	MaxVersions *int
	CASRequired *bool
	// VersionTTL 0 clears the project's version TTL; a negative one makes
	// new versions of every secret of the project live forever, whatever
	// their secret's VersionTTL.
	VersionTTL *time.Duration
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

	// PutSecret applies u to the secret at c's project, path and name,
	// creating that secret from c first when there is none; it reports
	// whether it created it. u may not rename or move the secret.
	// Returns EINVALID, ENOTFOUND (project), EPRECONDITION (secret scheduled
	// for deletion), EQUOTA, EFORBIDDEN.
	PutSecret(ctx context.Context, c SecretCreate, u SecretUpdate) (*Secret, bool, error)

	// ChangeProjectSettings changes some of a project's settings.
	// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
	ChangeProjectSettings(ctx context.Context, id string, u ProjectSettingsUpdate) (*Project, error)
}
