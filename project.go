package coffer

import (
	"context"
	"time"
)

// Organization owns projects and principals.
type Organization struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Project is the unit of isolation and of defaults: a Scaleway project_id,
// an OKMS okmsId, the owner of a Vault mount.
type Project struct {
	ID             string
	OrganizationID string
	Name           string
	Settings       ProjectSettings
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ProjectSettings are the defaults OKMS calls domain config and Vault calls
// mount config.
type ProjectSettings struct {
	// MaxVersions is the default number of versions a secret keeps.
	MaxVersions int
	// CASRequired is the default for secrets' CASRequired.
	CASRequired bool
	// VersionTTL is the default for secrets' VersionTTL; 0 = never. Where
	// both are set, the shorter applies; a negative VersionTTL makes new
	// versions live forever, whatever their secret's.
	VersionTTL time.Duration
	// DeletionDelay is how long a secret scheduled for deletion (NAVER's
	// request-deletion, Scaleway's DeleteSecret) waits before it is
	// destroyed; 0 = coffer.DeletionDelay. Versions scheduled for
	// deletion always wait coffer.DeletionDelay.
	DeletionDelay time.Duration
}

// SecretDeletionDelay returns the waiting period of a secret scheduled for
// deletion in the project.
func (s ProjectSettings) SecretDeletionDelay() time.Duration {
	if s.DeletionDelay > 0 {
		return s.DeletionDelay
	}
	return DeletionDelay
}

// Bounds of ProjectSettings.DeletionDelay, when set.
const (
	MinDeletionDelay = 24 * time.Hour
	MaxDeletionDelay = 90 * 24 * time.Hour
)

// ProjectService reads and changes projects.
type ProjectService interface {
	// GetProject returns a project. Returns ENOTFOUND.
	GetProject(ctx context.Context, id string) (*Project, error)
	// UpdateProjectSettings replaces a project's settings.
	// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
	UpdateProjectSettings(ctx context.Context, id string, s ProjectSettings) (*Project, error)
}
