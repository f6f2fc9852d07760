// Package coffer holds the domain of the coffer secret manager: its types,
// error codes and service contracts.
//
// Everything else depends on this package and it depends on nothing but the
// standard library. A secret is a logical container of immutable, numbered
// versions; every HTTP dialect (Scaleway, Vault KV v2, OKMS, NAVER, IMCO) is
// a view of these same types, so a rule written once here or in the engine
// holds in every dialect.
package coffer

import "time"

// Defaults that apply when a project or secret does not override them.
const (
	// DefaultMaxVersions is the number of versions a secret keeps before the
	// oldest is pruned, when neither the secret nor its project says otherwise.
	DefaultMaxVersions = 10

	// DeletionDelay is how long a version scheduled for deletion can still
	// be restored before it is purged, and the default of a secret's
	// (ProjectSettings.DeletionDelay).
	DeletionDelay = 7 * 24 * time.Hour

	// MaxPayloadSize is the default maximum size of a version's data.
	MaxPayloadSize = 64 << 10
)
