package vaultkv

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer"
)

// timestamp encodes a time as Vault does: RFC 3339 in UTC with nanoseconds,
// trailing zeros trimmed.
type timestamp time.Time

func (t timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339Nano))
}

// optionalTimestamp is a timestamp, or "" for none (never null).
type optionalTimestamp struct{ t *time.Time }

func (t optionalTimestamp) MarshalJSON() ([]byte, error) {
	if t.t == nil {
		return []byte(`""`), nil
	}
	return timestamp(*t.t).MarshalJSON()
}

// duration encodes a duration as Go prints it ("1h0m0s", "0s"): what the
// Go client parses with time.ParseDuration.
func duration(d time.Duration) string { return d.String() }

// versionMetadata is the metadata of one version in data, subkeys and write
// answers.
type versionMetadata struct {
	CreatedTime    timestamp         `json:"created_time"`
	CustomMetadata map[string]string `json:"custom_metadata"`
	DeletionTime   optionalTimestamp `json:"deletion_time"`
	Destroyed      bool              `json:"destroyed"`
	Version        uint32            `json:"version"`
}

func toVersionMetadata(s *coffer.Secret, v *coffer.Version) versionMetadata {
	return versionMetadata{
		CreatedTime:    timestamp(v.CreatedAt),
		CustomMetadata: customMetadataJSON(s),
		DeletionTime:   optionalTimestamp{deletionTime(v)},
		Destroyed:      v.State == coffer.VersionDestroyed,
		Version:        v.Revision,
	}
}

// customMetadataJSON is a secret's custom metadata, null when it has none,
// as Vault writes it.
func customMetadataJSON(s *coffer.Secret) map[string]string {
	if len(s.CustomMetadata) == 0 {
		return nil
	}
	return s.CustomMetadata
}

// deletionTime is what Vault calls a version's deletion_time: when it was
// (or, in the future, will be) soft-deleted. A disabled version was deleted
// when it was disabled, or when it expired if that came first (the
// scheduler applies expiries a little late); a version scheduled for
// deletion, when that was asked; an enabled one will be when it expires.
func deletionTime(v *coffer.Version) *time.Time {
	var expires *time.Time
	if v.Ephemeral != nil {
		expires = v.Ephemeral.ExpiresAt
	}
	switch v.State {
	case coffer.VersionEnabled:
		return expires
	case coffer.VersionDisabled:
		if expires != nil && (v.DisabledAt == nil || expires.Before(*v.DisabledAt)) {
			return expires
		}
		return v.DisabledAt
	case coffer.VersionScheduledForDeletion:
		if v.DisabledAt != nil {
			return v.DisabledAt
		}
		return v.DeletionRequestedAt
	}
	// Destroyed: the deletion it went through, if any.
	switch {
	case v.DisabledAt != nil:
		return v.DisabledAt
	case v.DeletionRequestedAt != nil:
		return v.DeletionRequestedAt
	case expires != nil && v.DestroyedAt != nil && !expires.After(*v.DestroyedAt):
		return expires
	}
	return nil
}

// dataJSON is the answer to a data read: the secret's JSON object, or null
// when the version cannot be read, and its metadata.
type dataJSON struct {
	Data     json.RawMessage `json:"data"`
	Metadata versionMetadata `json:"metadata"`
}

// subkeysJSON is the answer to a subkeys read.
type subkeysJSON struct {
	Metadata versionMetadata `json:"metadata"`
	Subkeys  any             `json:"subkeys"`
}

// versionEntry is one version in a secret's metadata.
type versionEntry struct {
	CreatedTime  timestamp         `json:"created_time"`
	DeletionTime optionalTimestamp `json:"deletion_time"`
	Destroyed    bool              `json:"destroyed"`
}

// metadataJSON is the metadata of a secret.
type metadataJSON struct {
	CASRequired        bool                    `json:"cas_required"`
	CreatedTime        timestamp               `json:"created_time"`
	CurrentVersion     uint32                  `json:"current_version"`
	CustomMetadata     map[string]string       `json:"custom_metadata"`
	DeleteVersionAfter string                  `json:"delete_version_after"`
	MaxVersions        int                     `json:"max_versions"`
	OldestVersion      uint32                  `json:"oldest_version"`
	UpdatedTime        timestamp               `json:"updated_time"`
	Versions           map[string]versionEntry `json:"versions"`
}

// toMetadata returns a secret's metadata with its versions. The update time
// is that of the newest version: Vault's updated_time tracks writes.
func toMetadata(s *coffer.Secret, versions []*coffer.Version) metadataJSON {
	m := metadataJSON{
		CASRequired:        s.CASRequired,
		CreatedTime:        timestamp(s.CreatedAt),
		CurrentVersion:     s.LastRevision,
		CustomMetadata:     customMetadataJSON(s),
		DeleteVersionAfter: duration(s.VersionTTL),
		MaxVersions:        s.MaxVersions,
		OldestVersion:      s.OldestRevision,
		UpdatedTime:        timestamp(s.CreatedAt),
		Versions:           make(map[string]versionEntry, len(versions)),
	}
	updated := s.CreatedAt
	for _, v := range versions {
		m.Versions[strconv.FormatUint(uint64(v.Revision), 10)] = versionEntry{
			CreatedTime:  timestamp(v.CreatedAt),
			DeletionTime: optionalTimestamp{deletionTime(v)},
			Destroyed:    v.State == coffer.VersionDestroyed,
		}
		if v.CreatedAt.After(updated) {
			updated = v.CreatedAt
		}
	}
	m.UpdatedTime = timestamp(updated)
	return m
}

// listJSON is the answer to a listing; KeyInfo is OpenBao's detailed
// listing.
type listJSON struct {
	KeyInfo map[string]metadataJSON `json:"key_info,omitempty"`
	Keys    []string                `json:"keys"`
}

// configJSON is the engine configuration, a project's settings.
type configJSON struct {
	CASRequired        bool   `json:"cas_required"`
	DeleteVersionAfter string `json:"delete_version_after"`
	MaxVersions        int    `json:"max_versions"`
}

// deletionPassed reports whether a version is deleted in Vault's sense at
// time now: its deletion time has come.
func deletionPassed(v *coffer.Version, now time.Time) bool {
	t := deletionTime(v)
	return t != nil && !t.After(now)
}
