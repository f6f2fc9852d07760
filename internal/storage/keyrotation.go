package storage

import (
	"context"
	"time"
)

// KeyRotation is the re-wrap of a protection key's data keys under one of
// its versions, with its progress, kept in the store so that the background
// job that does it resumes where it stopped, on any node, after a crash.
type KeyRotation struct {
	KeyID     string
	ProjectID string
	// ToVersion is the key version data keys are re-wrapped to: every data
	// key wrapped under an older version of the key is.
	ToVersion uint32
	// AfterSecret and AfterRevision are where the current pass stopped:
	// the last version it examined, in the order of ScanVersionData.
	AfterSecret   string
	AfterRevision uint32
	// Pass counts the passes over the project's versions, from 1; the
	// rotation is complete once a whole pass re-wraps nothing.
	// PassRewrapped is what the current pass re-wrapped so far.
	Pass          int
	PassRewrapped int64
	// Scanned is the number of versions examined, Rewrapped the number of
	// data keys re-wrapped, over every pass; Total is how many versions of
	// the project held data when the rotation began.
	Scanned   int64
	Rewrapped int64
	Total     int64
	StartedAt time.Time
	UpdatedAt time.Time
	// CompletedAt is set once no data key of the project is wrapped under
	// an older version of the key.
	CompletedAt *time.Time
}

// RootWrapped is one value of the store sealed directly under the root key:
// a protection key version, or a credential. Rotating the root key re-wraps
// every one of them.
type RootWrapped struct {
	// Kind is one of the RootWrapped* constants.
	Kind string
	// ID names the record: the key id of a key version, the access key of
	// an API key, the id of a trigger or of a key vault.
	ID string
	// ProjectID and Version are a key version's project and number; zero
	// for the other kinds.
	ProjectID string
	Version   uint32
	// Sealed is the value as the root key sealed it.
	Sealed []byte
}

// Kinds of RootWrapped.
const (
	RootWrappedKeyVersion = "key_version"
	RootWrappedAPIKey     = "api_key"
	RootWrappedTrigger    = "trigger"
	RootWrappedKeyVault   = "key_vault"
)

// KeyRotationTx is implemented by the Tx of stores that rotate keys: the
// progress of protection-key rotations, the scan and the re-wrap of sealed
// version data, and the values sealed under the root key.
type KeyRotationTx interface {
	// PutKeyRotation creates or replaces the rotation of r.KeyID.
	PutKeyRotation(ctx context.Context, r *KeyRotation) error
	// GetKeyRotation returns the rotation of a key. Returns ErrNotFound.
	GetKeyRotation(ctx context.Context, keyID string) (*KeyRotation, error)
	// ListKeyRotations returns the rotations of some projects, or of every
	// project when projectIDs is nil; only those not complete when open is
	// set. Ordered by start time, then key id.
	ListKeyRotations(ctx context.Context, projectIDs []string, open bool) ([]*KeyRotation, error)

	// ScanVersionData returns, with their data, up to limit versions of
	// the project's secrets that hold data (not destroyed), ordered by
	// secret id then revision, after the version (afterSecret,
	// afterRevision); "" and 0 start from the first.
	ScanVersionData(ctx context.Context, projectID, afterSecret string, afterRevision uint32, limit int) ([]*Version, error)
	// CountVersionData returns how many versions of the project's secrets
	// hold data.
	CountVersionData(ctx context.Context, projectID string) (int64, error)
	// RewrapVersionData replaces the sealed data of a version with data if
	// it still is old, and changes nothing else (not updated_at). Returns
	// ErrNotFound when the version is gone or its data is no longer old.
	RewrapVersionData(ctx context.Context, secretID string, revision uint32, old, data []byte) error

	// ListRootWrapped returns every value sealed under the root key, but
	// the meta values (the root key check, the CA key).
	ListRootWrapped(ctx context.Context) ([]*RootWrapped, error)
	// UpdateRootWrapped replaces the sealed value of the record w names.
	// Returns ErrNotFound.
	UpdateRootWrapped(ctx context.Context, w *RootWrapped) error
}
