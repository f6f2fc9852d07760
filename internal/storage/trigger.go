package storage

import (
	"context"
	"time"

	"github.com/coffer-dev/coffer"
)

// Trigger is a rotation trigger with its signing secret sealed under the
// root key.
type Trigger struct {
	coffer.Trigger
	SealedSecret []byte
}

// RotationTx is implemented by the Tx of stores that keep rotation
// triggers and index the secrets the rotation scheduler must look at.
type RotationTx interface {
	// CreateTrigger returns ErrConflict for a taken id or (project, name).
	CreateTrigger(ctx context.Context, t *Trigger) error
	// GetTrigger returns ErrNotFound.
	GetTrigger(ctx context.Context, id string) (*Trigger, error)
	// ListTriggers returns the triggers of the projects, by project and
	// name, with the ids of the secrets linked to each.
	ListTriggers(ctx context.Context, projectIDs []string) ([]*Trigger, error)
	// DeleteTrigger returns ErrNotFound.
	DeleteTrigger(ctx context.Context, id string) error
	// TriggerSecrets returns the ids of the secrets linked to a trigger,
	// in id order.
	TriggerSecrets(ctx context.Context, triggerID string) ([]string, error)
	// DueRotations returns up to limit secrets whose rotation needs the
	// scheduler at time now (coffer.RotationPolicy.RotateAt is not after
	// now), oldest due first.
	DueRotations(ctx context.Context, now time.Time, limit int) ([]*coffer.Secret, error)
}
