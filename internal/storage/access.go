package storage

import (
	"context"
	"time"
)

// VersionAccess says that a version's data was handed out at At.
type VersionAccess struct {
	SecretID string
	Revision uint32
	At       time.Time
}

// AccessTx is implemented by the Tx of stores that keep when each version
// was last accessed. Reads do not write: the engine gathers their times in
// memory and hands them over in batches, in one Update, so that a read stays
// one read transaction (docs/audit.md, "Last access").
type AccessTx interface {
	// TouchVersions sets the accessed_at of each version named to its At
	// where the version has none or an older one: the newest time wins,
	// whatever order batches (of several nodes) arrive in, and a batch
	// that names a version twice keeps its newest time. It changes nothing
	// else, updated_at included, and skips versions that no longer exist.
	// Inside Update it takes the lock GetSecret takes on each secret named,
	// so that a writer that read a version before the batch cannot write
	// its older accessed_at back over the batch's.
	TouchVersions(ctx context.Context, accesses []VersionAccess) error
}
