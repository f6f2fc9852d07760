package coffer

import "context"

// KeyChange says how a key of a key_value secret changed between two
// versions.
type KeyChange string

// Key changes.
const (
	KeyAdded     KeyChange = "added"
	KeyRemoved   KeyChange = "removed"
	KeyChanged   KeyChange = "changed"
	KeyUnchanged KeyChange = "unchanged"
)

// KeyDiff is one key of a VersionDiff. It never holds a value.
type KeyDiff struct {
	Key    string
	Change KeyChange
}

// VersionDiff compares the keys of two versions of a key_value secret,
// without their values.
type VersionDiff struct {
	Secret   *Secret
	From, To *Version
	// Keys are the keys of both versions, sorted.
	Keys []KeyDiff
}

// DiffService compares versions.
type DiffService interface {
	// DiffVersions compares the keys of two versions of a key_value
	// secret: added, removed, changed, unchanged. It reads both values,
	// so it needs the right to read values, and both versions must be
	// readable; a version that expires once accessed is refused, as
	// comparing it would tell of its value without the access that ends
	// it. It is not an access: it moves no last-access time. Returns
	// EINVALID (not key_value, a value that is not a flat JSON object),
	// ENOTFOUND, EPRECONDITION, EFORBIDDEN.
	DiffVersions(ctx context.Context, secretID string, from, to Revision) (*VersionDiff, error)
}

// Rights say what the caller may do on a project at a path, as the engine
// decides it: pages show only the actions it allows. Every action is
// still authorized when it is asked for.
type Rights struct {
	Read   bool // list secrets, read metadata
	Access bool // read values
	Write  bool // create and change secrets and versions
	Delete bool // delete and destroy
}

// SecretView is a secret with one page of its versions, and the caller's
// rights on it, read in one transaction.
type SecretView struct {
	Secret   *Secret
	Versions []*Version
	Total    int
	Rights   Rights
}
