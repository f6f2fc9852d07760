package scaleway

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

// timestamp encodes a time as the service does: RFC 3339, UTC, microseconds.
type timestamp time.Time

func (t timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 29)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	return append(b, '"'), nil
}

func ts(t time.Time) *timestamp   { return (*timestamp)(&t) }
func tsp(t *time.Time) *timestamp { return (*timestamp)(t) }

// duration encodes a duration as protobuf JSON does: "1800s". It decodes
// "1800s" and "1800.000000000s", the form the Go SDK sends.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) {
	// Seconds and nanoseconds are written apart: a float64 of seconds
	// would round away nanoseconds of long durations.
	u := uint64(d)
	b := []byte{'"'}
	if d < 0 {
		u = -u
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, u/uint64(time.Second), 10)
	if ns := u % uint64(time.Second); ns != 0 {
		frac := strconv.AppendUint(nil, ns+uint64(time.Second), 10)[1:] // 9 digits
		b = append(append(b, '.'), strings.TrimRight(string(frac), "0")...)
	}
	return append(b, 's', '"'), nil
}

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// parseDuration reads "<seconds>[.<fraction>]s".
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("invalid duration: want seconds such as \"1800s\"")
	num, ok := strings.CutSuffix(s, "s")
	if !ok || num == "" || len(num) > 32 {
		return 0, bad
	}
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" || len(frac) > 9 {
		return 0, bad
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec > int64(100*365*24*time.Hour/time.Second) {
		return 0, bad
	}
	ns := int64(0)
	if frac != "" {
		frac += strings.Repeat("0", 9-len(frac))
		ns, _ = strconv.ParseInt(frac, 10, 64)
	}
	return time.Duration(sec)*time.Second + time.Duration(ns), nil
}

type secretJSON struct {
	SRN                 string               `json:"srn"`
	ID                  string               `json:"id"`
	ProjectID           string               `json:"project_id"`
	Name                string               `json:"name"`
	Status              string               `json:"status"`
	CreatedAt           *timestamp           `json:"created_at"`
	UpdatedAt           *timestamp           `json:"updated_at"`
	Tags                []string             `json:"tags"`
	VersionCount        int                  `json:"version_count"`
	Description         string               `json:"description"`
	Managed             bool                 `json:"managed"`
	Type                coffer.SecretType    `json:"type"`
	Protected           bool                 `json:"protected"`
	Path                string               `json:"path"`
	EphemeralPolicy     *ephemeralPolicyJSON `json:"ephemeral_policy"`
	UsedBy              []string             `json:"used_by"`
	DeletionRequestedAt *timestamp           `json:"deletion_requested_at"`
	KeyID               *string              `json:"key_id"`
	Region              string               `json:"region"`
}

type ephemeralPolicyJSON struct {
	TimeToLive          *duration              `json:"time_to_live"`
	ExpiresOnceAccessed *bool                  `json:"expires_once_accessed"`
	Action              coffer.EphemeralAction `json:"action"`
}

type versionJSON struct {
	Revision            uint32                   `json:"revision"`
	SecretID            string                   `json:"secret_id"`
	Status              string                   `json:"status"`
	CreatedAt           *timestamp               `json:"created_at"`
	UpdatedAt           *timestamp               `json:"updated_at"`
	DeletedAt           *timestamp               `json:"deleted_at"`
	Description         string                   `json:"description"`
	Latest              bool                     `json:"latest"`
	EphemeralProperties *ephemeralPropertiesJSON `json:"ephemeral_properties"`
	DeletionRequestedAt *timestamp               `json:"deletion_requested_at"`
	Region              string                   `json:"region"`
}

type ephemeralPropertiesJSON struct {
	ExpiresAt           *timestamp             `json:"expires_at"`
	ExpiresOnceAccessed *bool                  `json:"expires_once_accessed"`
	Action              coffer.EphemeralAction `json:"action"`
}

type accessJSON struct {
	SecretID  string            `json:"secret_id"`
	Revision  uint32            `json:"revision"`
	Data      []byte            `json:"data"` // encoding/json writes padded standard base64
	DataCRC32 *uint32           `json:"data_crc32"`
	Type      coffer.SecretType `json:"type"`
}

type listSecretsJSON struct {
	Secrets    []secretJSON `json:"secrets"`
	TotalCount int          `json:"total_count"`
}

type listVersionsJSON struct {
	Versions   []versionJSON `json:"versions"`
	TotalCount int           `json:"total_count"`
}

type listTagsJSON struct {
	Tags       []string `json:"tags"`
	TotalCount int      `json:"total_count"`
}

type listTypesJSON struct {
	Types      []coffer.SecretType `json:"types"`
	TotalCount int                 `json:"total_count"`
}

type browseJSON struct {
	Items       []browseItemJSON `json:"items"`
	CurrentPath string           `json:"current_path"`
	TotalCount  int              `json:"total_count"`
}

type browseItemJSON struct {
	Name      string            `json:"name"`
	CreatedAt *timestamp        `json:"created_at"`
	UpdatedAt *timestamp        `json:"updated_at"`
	Secret    *browseSecretJSON `json:"secret,omitempty"`
	Folder    *struct{}         `json:"folder,omitempty"`
}

type browseSecretJSON struct {
	ID              string               `json:"id"`
	Tags            []string             `json:"tags"`
	VersionCount    int                  `json:"version_count"`
	Protected       bool                 `json:"protected"`
	EphemeralPolicy *ephemeralPolicyJSON `json:"ephemeral_policy"`
	Type            coffer.SecretType    `json:"type"`
}

func toSecret(s *coffer.Secret, region string) secretJSON {
	out := secretJSON{
		ID:                  s.ID,
		ProjectID:           s.ProjectID,
		Name:                s.Name,
		Status:              "ready",
		CreatedAt:           ts(s.CreatedAt),
		UpdatedAt:           ts(s.UpdatedAt),
		Tags:                nonNil(s.Tags),
		VersionCount:        s.VersionCount,
		Description:         s.Description,
		Type:                s.Type,
		Protected:           s.Protected,
		Path:                s.Path,
		EphemeralPolicy:     toPolicy(s.Ephemeral),
		UsedBy:              nonNil(s.UsedBy),
		DeletionRequestedAt: tsp(s.DeletionRequestedAt),
		Region:              region,
	}
	if s.KeyID != "" {
		out.KeyID = &s.KeyID
	}
	return out
}

func toPolicy(p *coffer.EphemeralPolicy) *ephemeralPolicyJSON {
	if p == nil {
		return nil
	}
	out := &ephemeralPolicyJSON{ExpiresOnceAccessed: &p.ExpiresOnceAccessed, Action: p.Action}
	if p.TTL > 0 {
		out.TimeToLive = (*duration)(&p.TTL)
	}
	return out
}

// versionStatus names a version state as the service does; a destroyed
// version is "deleted".
func versionStatus(s coffer.VersionState) string {
	if s == coffer.VersionDestroyed {
		return "deleted"
	}
	return string(s)
}

func toVersion(v *coffer.Version, region string) versionJSON {
	out := versionJSON{
		Revision:            v.Revision,
		SecretID:            v.SecretID,
		Status:              versionStatus(v.State),
		CreatedAt:           ts(v.CreatedAt),
		UpdatedAt:           ts(v.UpdatedAt),
		DeletedAt:           tsp(v.DestroyedAt),
		Description:         v.Description,
		Latest:              v.Latest,
		DeletionRequestedAt: tsp(v.DeletionRequestedAt),
		Region:              region,
	}
	if ep := v.Ephemeral; ep != nil {
		out.EphemeralProperties = &ephemeralPropertiesJSON{
			ExpiresAt: tsp(ep.ExpiresAt), ExpiresOnceAccessed: &ep.ExpiresOnceAccessed, Action: ep.Action,
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
