package coffer

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// VersionState is the lifecycle state of one version.
type VersionState string

// Version states. See DESIGN.md for how each dialect names them.
const (
	VersionEnabled              VersionState = "enabled"
	VersionDisabled             VersionState = "disabled"
	VersionScheduledForDeletion VersionState = "scheduled_for_deletion"
	// VersionDestroyed versions keep their metadata; their data is erased.
	VersionDestroyed VersionState = "destroyed"
)

// Version is one immutable, numbered value of a secret. Its data is never
// part of this type: it travels as a Payload.
type Version struct {
	SecretID string
	Revision uint32
	State    VersionState
	// StateBeforeDeletion is the state a restore returns to.
	StateBeforeDeletion VersionState
	Description         string
	// DataCRC32 is the CRC32 (IEEE) the writer supplied, if any.
	DataCRC32 *uint32
	Size      int

	// Ephemeral properties, copied from the secret's policy at creation.
	Ephemeral *EphemeralProperties

	// DisabledAt is when the version was disabled (Vault deletion_time).
	DisabledAt          *time.Time
	DeletionRequestedAt *time.Time
	PurgeAt             *time.Time
	DestroyedAt         *time.Time
	AccessedAt          *time.Time
	CreatedBy           string
	CreatedAt           time.Time
	UpdatedAt           time.Time

	// Latest is computed, never stored: the engine sets it on the versions
	// it returns when this is the secret's latest revision.
	Latest bool
}

// EphemeralProperties make one version short-lived.
type EphemeralProperties struct {
	ExpiresAt           *time.Time
	ExpiresOnceAccessed bool
	Action              EphemeralAction
}

// Readable reports whether the version's data can be accessed.
func (v *Version) Readable() bool { return v.State == VersionEnabled }

// VersionCreate holds a new version.
type VersionCreate struct {
	Data        Payload
	Description string
	// DataCRC32, when set, must match the CRC32 (IEEE) of Data.
	DataCRC32 *uint32
	// DisablePrevious disables the version that was latest, if enabled.
	DisablePrevious bool
	// CAS, when set, is the check-and-set revision: the write succeeds only
	// if the secret's latest revision is *CAS (0: the secret has no version).
	CAS *uint32
	// JSONObject says that Data is a JSON object as the client sent it (the
	// Vault and OKMS writes): it must be exactly one JSON object, in UTF-8,
	// whatever the secret's type (EINVALID). Data of a key_value or other
	// JSON secret type is held to the same rule by its type; opaque data
	// written as bytes (Scaleway's base64) may be anything.
	JSONObject bool
	// CreateSecret, when set, creates the secret at its path if it does not
	// exist yet (the Vault and OKMS write semantics). When its Type is "",
	// the secret is key_value if Data is a flat JSON object (no object or
	// array values), else opaque.
	CreateSecret *SecretCreate
}

// VersionUpdate holds version fields to change; nil fields are left alone.
type VersionUpdate struct {
	Description *string
	Ephemeral   *EphemeralProperties
}

// VersionFilter selects versions of one secret.
type VersionFilter struct {
	// States keeps versions in any of these states; empty keeps all.
	States []VersionState
	// Descending sorts by revision from newest to oldest.
	Descending bool
	Offset     int
	Limit      int
}

// Revision selects a version: a number, or the latest one.
type Revision struct {
	Number uint32
	Kind   RevisionKind
}

// RevisionKind says how a Revision selects.
type RevisionKind int

// Revision kinds.
const (
	RevisionNumber        RevisionKind = iota // Number
	RevisionLatest                            // the highest revision that still exists
	RevisionLatestEnabled                     // the highest enabled revision
)

// Latest selects the latest revision.
var Latest = Revision{Kind: RevisionLatest}

// LatestEnabled selects the latest enabled revision.
var LatestEnabled = Revision{Kind: RevisionLatestEnabled}

// RevisionN selects revision n.
func RevisionN(n uint32) Revision { return Revision{Number: n} }

// ParseRevision parses "1", "2", ..., "latest" or "latest_enabled".
// Returns EINVALID.
func ParseRevision(s string) (Revision, error) {
	switch s {
	case "latest":
		return Latest, nil
	case "latest_enabled":
		return LatestEnabled, nil
	}
	if s == "" || len(s) > 10 || s[0] == '0' || s[0] == '+' || s[0] == '-' {
		return Revision{}, Invalid("revision", ReasonFormat, fmt.Sprintf("invalid revision %q: want a positive number, latest or latest_enabled", truncate(s, 32)))
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return Revision{}, Invalid("revision", ReasonFormat, fmt.Sprintf("invalid revision %q: want a positive number, latest or latest_enabled", truncate(s, 32)))
	}
	return RevisionN(uint32(n)), nil
}

// String returns the revision as ParseRevision reads it.
func (r Revision) String() string {
	switch r.Kind {
	case RevisionLatest:
		return "latest"
	case RevisionLatestEnabled:
		return "latest_enabled"
	}
	return strconv.FormatUint(uint64(r.Number), 10)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// VersionService manages the versions of secrets.
type VersionService interface {
	// CreateVersion adds a version to a secret; it becomes the latest and the
	// active stage. Returns EINVALID, ENOTFOUND, EPRECONDITION (secret
	// scheduled for deletion, CAS), ECONFLICT (CAS lost), EQUOTA.
	CreateVersion(ctx context.Context, secretID string, c VersionCreate) (*Secret, *Version, error)

	// GetVersion returns a version's metadata. Returns ENOTFOUND.
	GetVersion(ctx context.Context, secretID string, rev Revision) (*Version, error)

	// UpdateVersion changes a version's description or ephemeral properties.
	// Returns EINVALID, ENOTFOUND, EPRECONDITION.
	UpdateVersion(ctx context.Context, secretID string, rev Revision, u VersionUpdate) (*Version, error)

	// ListVersions returns one page of a secret's versions and the total.
	ListVersions(ctx context.Context, secretID string, f VersionFilter) ([]*Version, int, error)

	// AccessVersion returns a version with its data. The caller must Wipe
	// the payload when done. Returns ENOTFOUND, EPRECONDITION (disabled,
	// scheduled for deletion, destroyed).
	AccessVersion(ctx context.Context, secretID string, rev Revision) (*Secret, *Version, Payload, error)

	// EnableVersion, DisableVersion, ScheduleVersionDeletion and
	// RestoreVersion move a version between states. Return ENOTFOUND,
	// EPRECONDITION.
	EnableVersion(ctx context.Context, secretID string, rev Revision) (*Version, error)
	DisableVersion(ctx context.Context, secretID string, rev Revision) (*Version, error)
	ScheduleVersionDeletion(ctx context.Context, secretID string, rev Revision) (*Version, error)
	RestoreVersion(ctx context.Context, secretID string, rev Revision) (*Version, error)

	// UndeleteVersion makes a version readable again from any state but
	// destroyed (disabled, expired, scheduled for deletion), in one
	// transaction. Returns ENOTFOUND, EPRECONDITION.
	UndeleteVersion(ctx context.Context, secretID string, rev Revision) (*Version, error)

	// DestroyVersion erases a version's data for good; its metadata stays.
	// Returns ENOTFOUND.
	DestroyVersion(ctx context.Context, secretID string, rev Revision) (*Version, error)
}
