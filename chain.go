package coffer

import "context"

// MaxChainValueSize is the largest value of one stage written through the
// stage operations (NAVER's limit on a secret value).
const MaxChainValueSize = 10000

// SecretChain is the value of each stage of a secret (NAVER's "secret
// chain"): the data of the versions that the stages name. A stage that
// names no readable version is nil. Callers Wipe it when done.
type SecretChain struct {
	Previous Payload
	Active   Payload
	Pending  Payload
}

// Stage returns the value of a stage by name.
func (c *SecretChain) Stage(name string) Payload {
	switch name {
	case StagePrevious:
		return c.Previous
	case StageActive:
		return c.Active
	case StagePending:
		return c.Pending
	}
	return nil
}

// Wipe overwrites every value with zeros.
func (c *SecretChain) Wipe() {
	if c != nil {
		c.Previous.Wipe()
		c.Active.Wipe()
		c.Pending.Wipe()
	}
}

// ValidStage reports whether name is a stage.
func ValidStage(name string) bool {
	return name == StageActive || name == StagePrevious || name == StagePending
}

// ChainSecretCreate holds a secret created with its first value, the
// rotatable kind of secret NAVER serves: a key_value secret in the folder
// "/" whose value is a JSON object, and the keys of it that a rotation
// replaces.
type ChainSecretCreate struct {
	// ProjectID is the project; "" is the caller's default project.
	ProjectID       string
	Name            string
	Description     string
	Value           Payload
	RotationTargets []string
	// KeyID names the protection key; "" is the project's default.
	KeyID string
}

// ChainService reads and writes secrets by stage. Every method acts for
// the caller in ctx and returns ENOTFOUND for a secret the caller may not
// see. Values are JSON objects of at most MaxChainValueSize bytes.
type ChainService interface {
	// CreateChainSecret creates a secret and its first version, which
	// holds the active stage. The name is 3 to 15 letters, digits, "-"
	// or "_", starting with a letter; every rotation target is a key of
	// the value. Returns EINVALID, ENOTFOUND (project, key), ECONFLICT
	// (name taken), EQUOTA, EFORBIDDEN.
	CreateChainSecret(ctx context.Context, c ChainSecretCreate) (*Secret, error)

	// ReadChain returns the value of every stage, in one read. Returns
	// ENOTFOUND, EFORBIDDEN, EPRECONDITION (secret disabled or scheduled
	// for deletion).
	ReadChain(ctx context.Context, id string) (*Secret, *SecretChain, error)

	// ReadStage returns the value of one stage. Returns EINVALID (no such
	// stage), ENOTFOUND (secret, or no value at that stage), EFORBIDDEN,
	// EPRECONDITION (secret disabled or scheduled for deletion).
	ReadStage(ctx context.Context, id, stage string) (*Secret, Payload, error)

	// WriteChain replaces the whole chain in one transaction: each value
	// given becomes a new version holding its stage, and a stage given no
	// value is removed. The active stage is required; it is written last,
	// so that it is the latest version the other dialects read. Returns
	// EINVALID, ENOTFOUND, EFORBIDDEN, EPRECONDITION (scheduled for
	// deletion), EQUOTA.
	WriteChain(ctx context.Context, id string, c SecretChain) (*Secret, error)

	// WriteStage writes a new version holding one stage; the other
	// stages are left as they were. Returns EINVALID, ENOTFOUND,
	// EFORBIDDEN, EPRECONDITION (scheduled for deletion), EQUOTA.
	WriteStage(ctx context.Context, id, stage string, value Payload) (*Secret, error)
}

// SecretStatusService moves a whole secret between its states: enabled,
// disabled (nothing reads its values, in any dialect), scheduled for
// deletion (destroyed at PurgeAt), rotating (a rotation job is open). Every
// method acts for the caller in ctx; a move its state does not allow is
// EPRECONDITION with the precondition "secret_status".
type SecretStatusService interface {
	// EnableSecret enables a disabled secret. Returns ENOTFOUND,
	// EFORBIDDEN, EPRECONDITION.
	EnableSecret(ctx context.Context, id string) (*Secret, error)
	// DisableSecret disables an enabled secret. Returns ENOTFOUND,
	// EFORBIDDEN, EPRECONDITION.
	DisableSecret(ctx context.Context, id string) (*Secret, error)
	// RequestSecretDeletion schedules an enabled or disabled secret for
	// deletion after DeletionDelay; a secret already scheduled keeps its
	// date. Returns ENOTFOUND, EFORBIDDEN, EPRECONDITION (rotating,
	// protected).
	RequestSecretDeletion(ctx context.Context, id string) (*Secret, error)
	// CancelSecretDeletion cancels a scheduled deletion; the secret is
	// then disabled. Returns ENOTFOUND, EFORBIDDEN, EPRECONDITION.
	CancelSecretDeletion(ctx context.Context, id string) (*Secret, error)
	// DestroySecret removes a secret scheduled for deletion at once.
	// Returns ENOTFOUND, EFORBIDDEN, EPRECONDITION.
	DestroySecret(ctx context.Context, id string) error
}

// PreconditionSecretStatus qualifies an EPRECONDITION error about a move
// between secret states that the secret's state does not allow.
const PreconditionSecretStatus = "secret_status"

// ProtectionKeyService changes the protection key of a secret.
type ProtectionKeyService interface {
	// ChangeProtectionKey re-seals every version of a secret under keyID
	// ("" is the project's default key) in one transaction, and seals the
	// versions to come under it. Returns EINVALID, ENOTFOUND (the secret,
	// or a key not of its project), EFORBIDDEN, EPRECONDITION (deletion
	// scheduled).
	ChangeProtectionKey(ctx context.Context, secretID, keyID string) (*Secret, error)
}
