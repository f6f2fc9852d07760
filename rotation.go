package coffer

import (
	"context"
	"time"
)

// RotationJobState is where a rotation job stands.
type RotationJobState string

// Rotation job states. A job is open while created, started or
// pending_written: its secret is then SecretRotating.
const (
	JobCreated        RotationJobState = "created"
	JobStarted        RotationJobState = "started"
	JobPendingWritten RotationJobState = "pending_written"
	JobCompleted      RotationJobState = "completed"
	JobFailed         RotationJobState = "failed"
	JobCancelled      RotationJobState = "cancelled"
)

// Open reports whether a job in this state is still running.
func (s RotationJobState) Open() bool {
	return s == JobCreated || s == JobStarted || s == JobPendingWritten
}

// RotationJob is a secret's latest rotation job. Its token, which whoever
// drives the job presents, is held only as a hash; the job is named by its
// ID everywhere else.
type RotationJob struct {
	ID        string
	TokenHash []byte
	State     RotationJobState
	CreatedAt time.Time
	UpdatedAt time.Time
	// Action is what opened the job: JobActionExecute, JobActionRetry or
	// JobActionAuto.
	Action string
	// Deadline is when the scheduler fails the job if it is still open.
	Deadline time.Time
	// Error says why a failed job failed, when coffer failed it (its
	// trigger could not be delivered, its deadline passed); empty when the
	// rotation function failed it.
	Error string
}

// What opened a rotation job, as its trigger's payload names it.
const (
	JobActionExecute = "execute"
	JobActionRetry   = "retry"
	JobActionAuto    = "auto"
)

// RotationTicket is a job just opened, with its token, handed out once:
// to the caller when the secret links no trigger, else only to the
// trigger, and Token is empty.
type RotationTicket struct {
	JobID string
	Token string
	// Fired is set when the job fires the secret's trigger.
	Fired bool
}

// String describes the ticket without its token.
func (t *RotationTicket) String() string {
	return "RotationTicket{JobID: " + t.JobID + ", Token: " + Redacted + "}"
}

// Trigger is a webhook that a project's rotation jobs fire: coffer POSTs
// {secretId, jobToken, action} to URL, signed with the trigger's signing
// secret, which is shown once, when the trigger is created.
type Trigger struct {
	ID        string
	ProjectID string
	Name      string
	URL       string
	CreatedAt time.Time
	// Secrets are the secrets linked to the trigger; filled by the
	// listings only.
	Secrets []string
}

// TriggerCreate is what creating a trigger takes.
type TriggerCreate struct {
	ProjectID string
	Name      string
	URL       string
}

// NewTrigger is a trigger just created, with its signing secret.
type NewTrigger struct {
	*Trigger
	SigningSecret string
}

// String describes the trigger without its signing secret.
func (t *NewTrigger) String() string {
	return "NewTrigger{ID: " + t.ID + ", SigningSecret: " + Redacted + "}"
}

// TriggerService manages triggers. Creating and deleting one needs the
// RotationManager permission set on its project (or an admin): a trigger
// makes the server send requests to a URL of the caller's choice.
type TriggerService interface {
	// CreateTrigger returns EINVALID (name, URL, a refused address),
	// ENOTFOUND, EFORBIDDEN, ECONFLICT (a taken name).
	CreateTrigger(ctx context.Context, in TriggerCreate) (*NewTrigger, error)
	// ListTriggers lists the triggers of a project, or of every project
	// the caller may see when projectID is empty, with their linked
	// secrets. Returns ENOTFOUND, EFORBIDDEN.
	ListTriggers(ctx context.Context, projectID string) ([]*Trigger, error)
	// GetTrigger returns ENOTFOUND, EFORBIDDEN.
	GetTrigger(ctx context.Context, id string) (*Trigger, error)
	// DeleteTrigger returns ENOTFOUND, EFORBIDDEN, EPRECONDITION (a
	// secret still uses it).
	DeleteTrigger(ctx context.Context, id string) error
}

// Automatic rotation periods, in days (NAVER's bounds and default).
const (
	MinRotationDays     = 1
	MaxRotationDays     = 730
	DefaultRotationDays = 90
)

// AutoRotationService links triggers to secrets and schedules their
// rotation. Every method acts for the caller in ctx, who needs the right to
// write the secret; a trigger must belong to the secret's project.
type AutoRotationService interface {
	// EnableAutoRotation turns automatic rotation on every days days (0:
	// the period set before, else DefaultRotationDays), firing triggerID
	// ("" keeps the linked trigger, which must exist). The next rotation
	// is a period from now. Returns EINVALID, ENOTFOUND, EFORBIDDEN,
	// EPRECONDITION (no trigger, a secret not enabled).
	EnableAutoRotation(ctx context.Context, secretID string, days int, triggerID string) (*Secret, error)
	// DisableAutoRotation turns it off. Returns ENOTFOUND, EFORBIDDEN.
	DisableAutoRotation(ctx context.Context, secretID string) (*Secret, error)
	// SetRotationPeriod changes the period; with automatic rotation on,
	// the next rotation is a period after the last one (or from now when
	// none ran). Returns EINVALID, ENOTFOUND, EFORBIDDEN.
	SetRotationPeriod(ctx context.Context, secretID string, days int) (*Secret, error)
	// LinkTrigger links a trigger. Returns EINVALID, ENOTFOUND,
	// EFORBIDDEN.
	LinkTrigger(ctx context.Context, secretID, triggerID string) (*Secret, error)
	// UnlinkTrigger unlinks the trigger. Returns ENOTFOUND, EFORBIDDEN,
	// EPRECONDITION (automatic rotation is on).
	UnlinkTrigger(ctx context.Context, secretID string) error
}

// RandomOptions are the options of a generated random string (NAVER's
// generate-random-secret). The zero value is not the default: see
// DefaultRandomOptions.
type RandomOptions struct {
	Length                  int
	ExcludeCharacters       string
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	IncludeSpace            bool
	RequireEachIncludedType bool
}

// DefaultRandomOptions returns NAVER's defaults: 12 characters of every
// kind, a space included, at least one of each kind.
func DefaultRandomOptions() RandomOptions {
	return RandomOptions{Length: 12, IncludeSpace: true, RequireEachIncludedType: true}
}

// RotationService runs rotation jobs: a job is opened on a secret (Execute),
// then driven by whoever holds its token: start, write the pending stage,
// complete (pending becomes active, active previous) or fail. Every method
// acts for the caller in ctx; a token that is not the open job's of that
// secret is ENOTFOUND, so that a job token of one secret does nothing to
// another.
type RotationService interface {
	// ExecuteRotation opens a job on an enabled secret and marks it
	// rotating. Returns ENOTFOUND, EFORBIDDEN, EPRECONDITION (not
	// enabled, a job is open).
	ExecuteRotation(ctx context.Context, secretID string) (*RotationTicket, error)
	// CancelRotation cancels the open job; its pending value is dropped.
	// Returns ENOTFOUND, EFORBIDDEN, EPRECONDITION (no open job).
	CancelRotation(ctx context.Context, secretID string) error
	// RetryRotation opens a new job after a failed one. Returns
	// ENOTFOUND, EFORBIDDEN, EPRECONDITION.
	RetryRotation(ctx context.Context, secretID string) (*RotationTicket, error)
	// RollbackRotation undoes the last completed rotation: the previous
	// value becomes active again, as a new version, and the active one
	// previous. Returns ENOTFOUND, EFORBIDDEN, EPRECONDITION (a job is
	// open, no previous value).
	RollbackRotation(ctx context.Context, secretID string) (*Secret, error)

	// StartRotationJob starts the job and returns the chain. Returns
	// ENOTFOUND, EPRECONDITION.
	StartRotationJob(ctx context.Context, secretID, token string) (*Secret, *SecretChain, error)
	// AddPendingStage writes as pending the active value with every
	// rotation target replaced by a random string, and returns it.
	AddPendingStage(ctx context.Context, secretID, token string) (Payload, error)
	// UpdatePendingStage writes value as pending. Returns EINVALID,
	// ENOTFOUND, EPRECONDITION.
	UpdatePendingStage(ctx context.Context, secretID, token string, value Payload) error
	// GenerateRandomSecret returns a random string. Returns EINVALID,
	// ENOTFOUND, EPRECONDITION.
	GenerateRandomSecret(ctx context.Context, secretID, token string, o RandomOptions) (string, error)
	// CompleteRotationJob shifts the chain, in one transaction: pending
	// becomes active, active previous. Returns ENOTFOUND, EPRECONDITION
	// (no pending value).
	CompleteRotationJob(ctx context.Context, secretID, token string) error
	// FailRotationJob ends the job as failed; the pending value is
	// dropped. Returns ENOTFOUND, EPRECONDITION.
	FailRotationJob(ctx context.Context, secretID, token string) error
}
