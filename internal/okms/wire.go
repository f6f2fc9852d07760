package okms

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer"
)

// timestamp encodes a time as the service does: UTC, whole seconds, "Z".
type timestamp time.Time

func (t timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	return append(b, '"'), nil
}

func ts(t time.Time) timestamp { return timestamp(t) }

func tsp(t *time.Time) *timestamp {
	if t == nil {
		return nil
	}
	return (*timestamp)(t)
}

// formatDuration writes a duration in the syntax parseDuration reads, as
// short as it goes: "0s", "1d" for whole days, else hours, minutes and
// seconds without zero units ("1h30m"), else Go's form.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == 0:
		return "0s"
	case d < 0 || d%time.Second != 0:
		return d.String()
	case d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	var b []byte
	for _, u := range []struct {
		unit time.Duration
		name byte
	}{{time.Hour, 'h'}, {time.Minute, 'm'}, {time.Second, 's'}} {
		if n := d / u.unit; n > 0 {
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, u.name)
			d -= n * u.unit
		}
	}
	return string(b)
}

// metadataJSON is SecretV2Metadata. The version counters are always sent,
// also when 0: the CLI prints them and OVH's suite checks oldestVersion 0.
type metadataJSON struct {
	CASRequired            bool              `json:"casRequired"`
	CreatedAt              timestamp         `json:"createdAt"`
	UpdatedAt              timestamp         `json:"updatedAt"`
	CurrentVersion         uint32            `json:"currentVersion"`
	OldestVersion          uint32            `json:"oldestVersion"`
	MaxVersions            int               `json:"maxVersions"`
	DeactivateVersionAfter string            `json:"deactivateVersionAfter"`
	CustomMetadata         map[string]string `json:"customMetadata"`
}

func toMetadata(s *coffer.Secret) metadataJSON {
	m := metadataJSON{
		CASRequired:            s.CASRequired,
		CreatedAt:              ts(s.CreatedAt),
		UpdatedAt:              ts(s.UpdatedAt),
		CurrentVersion:         s.LastRevision,
		OldestVersion:          s.OldestRevision,
		MaxVersions:            s.MaxVersions,
		DeactivateVersionAfter: formatDuration(s.VersionTTL),
		CustomMetadata:         s.CustomMetadata,
	}
	if m.CustomMetadata == nil {
		m.CustomMetadata = map[string]string{}
	}
	return m
}

// Version states on the wire.
const (
	stateActive      = "active"
	stateDeactivated = "deactivated"
	stateDeleted     = "deleted"
)

// versionJSON is SecretV2Version. Data is set only when asked for and
// readable; it is written as received, never re-encoded.
type versionJSON struct {
	ID            uint32          `json:"id"`
	State         string          `json:"state"`
	CreatedAt     timestamp       `json:"createdAt"`
	DeactivatedAt *timestamp      `json:"deactivatedAt,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`
}

// toVersion maps a coffer version. A version scheduled for deletion (a
// Scaleway state) is not readable and can come back: it shows as
// deactivated.
func toVersion(v *coffer.Version) versionJSON {
	out := versionJSON{ID: v.Revision, CreatedAt: ts(v.CreatedAt)}
	switch v.State {
	case coffer.VersionEnabled:
		out.State = stateActive
	case coffer.VersionDisabled:
		out.State = stateDeactivated
		out.DeactivatedAt = tsp(v.DisabledAt)
	case coffer.VersionScheduledForDeletion:
		out.State = stateDeactivated
		out.DeactivatedAt = tsp(v.DisabledAt)
		if out.DeactivatedAt == nil {
			out.DeactivatedAt = tsp(v.DeletionRequestedAt)
		}
	default:
		out.State = stateDeleted
	}
	return out
}

// secretJSON is PostSecretV2Response, PutSecretV2Response, GetSecretV2Response
// and an item of ListSecretV2Response.
type secretJSON struct {
	Path     string       `json:"path"`
	Metadata metadataJSON `json:"metadata"`
	Version  *versionJSON `json:"version,omitempty"`
}

func toSecret(s *coffer.Secret) secretJSON {
	return secretJSON{Path: s.FullPath(), Metadata: toMetadata(s)}
}

// configJSON is GetSecretConfigV2Response and PutSecretConfigV2Response.
type configJSON struct {
	CASRequired            bool   `json:"casRequired"`
	DeactivateVersionAfter string `json:"deactivateVersionAfter"`
	MaxVersions            int    `json:"maxVersions"`
}

func toConfig(s coffer.ProjectSettings) configJSON {
	return configJSON{CASRequired: s.CASRequired, DeactivateVersionAfter: formatDuration(s.VersionTTL), MaxVersions: s.MaxVersions}
}

// writeJSON writes v with status and Content-Type application/json. HTML
// characters are not escaped, so that secret data goes out as it came in,
// up to insignificant whitespace. The encoded buffer is wiped afterwards:
// it may hold secret data.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error_code":50401281,"error_id":"","errors":["internal error"],"request_id":""}`)
	}
	defer clear(buf.Bytes())
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeNoContent answers 204 with no body.
func writeNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
