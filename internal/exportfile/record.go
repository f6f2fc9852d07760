package exportfile

import (
	"encoding/json"
	"fmt"
	"time"
)

// Frame kinds. A file holds one manifest, then each secret followed by as
// many version frames as its Versions says, then one end frame.
const (
	KindManifest = "manifest"
	KindSecret   = "secret"
	KindVersion  = "version"
	KindEnd      = "end"
)

// Frame is one frame of the plaintext stream; the field its Kind names is
// set.
type Frame struct {
	Kind     string    `json:"kind"`
	Manifest *Manifest `json:"manifest,omitempty"`
	Secret   *Secret   `json:"secret,omitempty"`
	Version  *Version  `json:"version,omitempty"`
	End      *End      `json:"end,omitempty"`
}

// Manifest says what a file holds.
type Manifest struct {
	Format    int       `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	// ProjectID and PathPrefix are the selection of the export; empty
	// when it did not name one.
	ProjectID  string `json:"project_id,omitempty"`
	PathPrefix string `json:"path_prefix,omitempty"`
}

// End closes the stream with the numbers of secrets and versions written.
type End struct {
	Secrets  int `json:"secrets"`
	Versions int `json:"versions"`
}

// Secret is a secret's metadata, state and policies. Versions frames follow
// it.
type Secret struct {
	ID string `json:"id"`
	// ProjectID and ProjectName are the secret's project on the exporting
	// instance; an import finds its project by name.
	ProjectID      string            `json:"project_id"`
	ProjectName    string            `json:"project_name"`
	Path           string            `json:"path"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Description    string            `json:"description,omitempty"`
	Tags           []string          `json:"tags,omitempty"`
	Protected      bool              `json:"protected,omitempty"`
	UsedBy         []string          `json:"used_by,omitempty"`
	CustomMetadata map[string]string `json:"custom_metadata,omitempty"`

	MaxVersions int              `json:"max_versions,omitempty"`
	CASRequired bool             `json:"cas_required,omitempty"`
	VersionTTL  time.Duration    `json:"version_ttl,omitempty"`
	Ephemeral   *EphemeralPolicy `json:"ephemeral,omitempty"`
	Rotation    *Rotation        `json:"rotation,omitempty"`

	State               string     `json:"state"`
	DeletionRequestedAt *time.Time `json:"deletion_requested_at,omitempty"`
	PurgeAt             *time.Time `json:"purge_at,omitempty"`

	LastRevision   uint32            `json:"last_revision"`
	LatestRevision uint32            `json:"latest_revision"`
	OldestRevision uint32            `json:"oldest_revision"`
	VersionCount   int               `json:"version_count"`
	Stages         map[string]uint32 `json:"stages,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Versions is the number of version frames that follow.
	Versions int `json:"versions"`
}

// EphemeralPolicy is a secret's ephemeral policy.
type EphemeralPolicy struct {
	TTL                 time.Duration `json:"ttl,omitempty"`
	ExpiresOnceAccessed bool          `json:"expires_once_accessed,omitempty"`
	Action              string        `json:"action"`
}

// Rotation is a secret's automatic rotation settings; the rotation job and
// trigger of the exporting instance are not part of it.
type Rotation struct {
	Enabled   bool          `json:"enabled"`
	Period    time.Duration `json:"period,omitempty"`
	NextRunAt *time.Time    `json:"next_run_at,omitempty"`
	Targets   []string      `json:"targets,omitempty"`
	LastRunAt *time.Time    `json:"last_run_at,omitempty"`
}

// Version is one version with its data; a destroyed version has none.
type Version struct {
	Revision            uint32               `json:"revision"`
	State               string               `json:"state"`
	StateBeforeDeletion string               `json:"state_before_deletion,omitempty"`
	Description         string               `json:"description,omitempty"`
	DataCRC32           *uint32              `json:"data_crc32,omitempty"`
	Size                int                  `json:"size"`
	Ephemeral           *EphemeralProperties `json:"ephemeral,omitempty"`
	DisabledAt          *time.Time           `json:"disabled_at,omitempty"`
	DeletionRequestedAt *time.Time           `json:"deletion_requested_at,omitempty"`
	PurgeAt             *time.Time           `json:"purge_at,omitempty"`
	DestroyedAt         *time.Time           `json:"destroyed_at,omitempty"`
	CreatedBy           string               `json:"created_by,omitempty"`
	CreatedAt           time.Time            `json:"created_at"`
	UpdatedAt           time.Time            `json:"updated_at"`
	// Data is the plaintext: absent for a destroyed version, and for an
	// empty value (its State and Size tell the two apart).
	Data []byte `json:"data,omitempty"`
}

// EphemeralProperties make one version short-lived.
type EphemeralProperties struct {
	ExpiresAt           *time.Time `json:"expires_at,omitempty"`
	ExpiresOnceAccessed bool       `json:"expires_once_accessed,omitempty"`
	Action              string     `json:"action"`
}

// Encode encodes f and writes it as one frame; the encoding, which may
// hold plaintext, is wiped.
func (w *Writer) Encode(f *Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	defer clear(b)
	return w.WriteFrame(b)
}

// Decode reads the next frame into a Frame, io.EOF at the end of the
// stream. A frame that is not one Frame of a known kind with its field set
// is ErrDamaged.
func (r *Reader) Decode() (*Frame, error) {
	b, err := r.ReadFrame()
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return DecodeFrame(b)
}

// DecodeFrame decodes one frame's bytes.
func DecodeFrame(b []byte) (*Frame, error) {
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: a frame is not valid JSON", ErrDamaged)
	}
	ok := false
	switch f.Kind {
	case KindManifest:
		ok = f.Manifest != nil
	case KindSecret:
		ok = f.Secret != nil
	case KindVersion:
		ok = f.Version != nil
	case KindEnd:
		ok = f.End != nil
	}
	if !ok {
		return nil, fmt.Errorf("%w: a frame of unknown kind, or without its content", ErrDamaged)
	}
	return &f, nil
}
