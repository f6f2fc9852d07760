package coffer

import (
	"context"
	"io"
)

// ExportRequest selects the secrets of an export and names the recipient
// the file is encrypted to: exactly one of Recipient and Passphrase.
type ExportRequest struct {
	// ProjectID limits the export to one project; "" exports every project
	// the caller may read.
	ProjectID string
	// PathPrefix keeps the secrets whose path is PathPrefix or lies below it.
	PathPrefix string
	// Recipient is the export key of the instance that will import the
	// file ("x25519:..." as ExportKey returns it).
	Recipient string
	// Passphrase is the key a passphrase derives, with the salt and costs
	// that derived it (the client runs Argon2id).
	Passphrase *ExportPassphrase
}

// ExportPassphrase is a key derived from a passphrase with Argon2id: the
// file records the salt and costs, never the key.
type ExportPassphrase struct {
	Key     []byte
	Salt    []byte
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// ExportSummary counts what an export wrote.
type ExportSummary struct {
	Secrets  int
	Versions int
}

// ConflictPolicy says what an import does with a secret that exists on the
// target with other content: the same id, or the same path and name.
type ConflictPolicy string

// Conflict policies.
const (
	// ConflictFail refuses the import, before anything is written.
	ConflictFail ConflictPolicy = "fail"
	// ConflictSkip leaves the target's secret as it is.
	ConflictSkip ConflictPolicy = "skip"
	// ConflictOverwrite replaces the target's secret with the file's.
	ConflictOverwrite ConflictPolicy = "overwrite"
)

// ImportRequest says how to import a file.
type ImportRequest struct {
	// ProjectID is the project every secret goes to; "" puts each in the
	// project of the caller's organization named as its project was on the
	// exporting instance.
	ProjectID string
	// NewIDs gives each secret a new id instead of keeping the file's.
	NewIDs bool
	// OnConflict defaults to ConflictFail.
	OnConflict ConflictPolicy
	// PassphraseKey opens a file encrypted to a passphrase: the key
	// derived with the salt and costs of the file's header.
	PassphraseKey []byte
}

// ImportResult counts what an import did, secret by secret.
type ImportResult struct {
	Secrets     int
	Created     int
	Unchanged   int
	Skipped     int
	Overwritten int
	// Versions counts the versions written.
	Versions int
}

// ExportService copies secrets between instances: an export writes them,
// with every version, state, stage, metadata, tag and policy, into a file
// encrypted to a recipient; an import writes a file's secrets anew under
// the target's keys.
type ExportService interface {
	// ExportKey returns the instance's export key ("x25519:..."), the
	// public key other instances encrypt exports to, creating it on first
	// use. Returns EUNAUTHENTICATED.
	ExportKey(ctx context.Context) (string, error)

	// Export writes the selected secrets into w as an export file. The
	// caller must be allowed to read the values of every selected secret.
	// Returns EINVALID, ENOTFOUND (project), EFORBIDDEN.
	Export(ctx context.Context, in ExportRequest, w io.Writer) (*ExportSummary, error)

	// Import reads the export file in r (twice: it checks the whole file,
	// and every conflict, before it writes anything) and writes its
	// secrets. Importing a file a second time changes nothing. Returns
	// EINVALID (not an export file, damaged, wrong key), ENOTFOUND
	// (project), ECONFLICT, EFORBIDDEN, EPRECONDITION (a protected secret
	// to overwrite), EQUOTA.
	Import(ctx context.Context, in ImportRequest, r io.ReadSeeker) (*ImportResult, error)
}
