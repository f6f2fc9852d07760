package coffer

import (
	"context"
	"time"
)

// KeyRotationState says where the rotation of a protection key stands.
type KeyRotationState string

// States of a key rotation.
const (
	// KeyRotationRewrapping: the new version seals what is written, and
	// the background job re-wraps the data keys wrapped under older ones.
	KeyRotationRewrapping KeyRotationState = "rewrapping"
	// KeyRotationComplete: no data key of the project is wrapped under an
	// older version of the key any more.
	KeyRotationComplete KeyRotationState = "complete"
)

// KeyRotation is the rotation of a protection key: the version it added,
// and the progress of the re-wrap of the data keys sealed before it.
type KeyRotation struct {
	KeyID     string
	ProjectID string
	// Version is the key version the rotation added, which seals every
	// version written since.
	Version uint32
	State   KeyRotationState
	// Pass counts the passes over the project's versions; a rotation is
	// complete after a pass that found nothing left to re-wrap.
	Pass int
	// Scanned is how many versions were examined, Rewrapped how many data
	// keys were re-wrapped, Total how many versions held data when the
	// rotation began.
	Scanned   int64
	Rewrapped int64
	Total     int64
	StartedAt time.Time
	UpdatedAt time.Time
	// CompletedAt is set once the state is complete.
	CompletedAt *time.Time
}

// KeyRotationService rotates protection keys without stopping anything:
// reads and writes go on while data keys are re-wrapped in the background.
type KeyRotationService interface {
	// RotateProtectionKey adds a version to protection key keyID of a
	// project ("" is the project's default key, created if missing),
	// which seals every version written from then on, and starts the
	// re-wrap of the data keys wrapped under the older versions. Returns
	// EINVALID, ENOTFOUND (the project, or a key not of the project),
	// EFORBIDDEN, EPRECONDITION (a re-wrap of the key is under way),
	// EUNAVAILABLE (the store keeps no rotations).
	RotateProtectionKey(ctx context.Context, projectID, keyID string) (*KeyRotation, error)
	// ListKeyRotations returns the last rotation of each key of a project
	// that was ever rotated, oldest first. Returns EINVALID, ENOTFOUND,
	// EFORBIDDEN, EUNAVAILABLE.
	ListKeyRotations(ctx context.Context, projectID string) ([]*KeyRotation, error)
}
