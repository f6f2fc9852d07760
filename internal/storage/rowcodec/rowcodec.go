// Package rowcodec encodes the structured fields of coffer's records into
// the column values both SQL stores keep (JSON text, NULL for nil;
// microseconds since the Unix epoch for times), and decodes them back. One
// codec for both backends means one stored shape: a database moved from
// SQLite to PostgreSQL reads the same. The JSON shapes are spelled out in
// types of their own with explicit names, so that renaming a domain field
// never changes what is stored.
//
// Columns travel as *string and *int64, nil for NULL; each store adapts them
// to its driver's types.
package rowcodec

import (
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/coffer-dev/coffer"
)

// ErrNotUTF8 is returned for text that JSON cannot carry unchanged.
var ErrNotUTF8 = errors.New("text is not valid UTF-8")

// Micros returns t as microseconds since the Unix epoch, nil for nil.
func Micros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	us := t.UnixMicro()
	return &us
}

// Time returns microseconds since the Unix epoch as a UTC time, nil for nil.
func Time(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := time.UnixMicro(*us).UTC()
	return &t
}

// EncodeStrings returns s as a JSON array, or NULL for a nil slice.
func EncodeStrings(s []string) (*string, error) {
	if s == nil {
		return nil, nil
	}
	for _, v := range s {
		if !utf8.ValidString(v) {
			return nil, ErrNotUTF8
		}
	}
	return marshal(s)
}

// DecodeStrings decodes a JSON array column.
func DecodeStrings(col *string) ([]string, error) {
	if col == nil {
		return nil, nil
	}
	var s []string
	if err := json.Unmarshal([]byte(*col), &s); err != nil {
		return nil, err
	}
	if s == nil {
		s = []string{} // a column is NULL for nil; "null" is not written
	}
	return s, nil
}

// EncodeStringMap returns m as a JSON object, or NULL for a nil map.
func EncodeStringMap(m map[string]string) (*string, error) {
	if m == nil {
		return nil, nil
	}
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, ErrNotUTF8
		}
	}
	return marshal(m)
}

// DecodeStringMap decodes a JSON object column.
func DecodeStringMap(col *string) (map[string]string, error) {
	if col == nil {
		return nil, nil
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(*col), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// EncodeStages returns a secret's stages as a JSON object, or NULL for nil.
func EncodeStages(m map[string]uint32) (*string, error) {
	if m == nil {
		return nil, nil
	}
	for k := range m {
		if !utf8.ValidString(k) {
			return nil, ErrNotUTF8
		}
	}
	return marshal(m)
}

// DecodeStages decodes a stages column.
func DecodeStages(col *string) (map[string]uint32, error) {
	if col == nil {
		return nil, nil
	}
	m := map[string]uint32{}
	if err := json.Unmarshal([]byte(*col), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// ephemeralPolicyJSON is the stored form of a secret's ephemeral policy.
type ephemeralPolicyJSON struct {
	TTL                 int64  `json:"ttl_ns"`
	ExpiresOnceAccessed bool   `json:"expires_once_accessed"`
	Action              string `json:"action"`
}

// EncodeEphemeralPolicy returns p as JSON, or NULL for nil.
func EncodeEphemeralPolicy(p *coffer.EphemeralPolicy) (*string, error) {
	if p == nil {
		return nil, nil
	}
	if !utf8.ValidString(string(p.Action)) {
		return nil, ErrNotUTF8
	}
	return marshal(ephemeralPolicyJSON{
		TTL:                 int64(p.TTL),
		ExpiresOnceAccessed: p.ExpiresOnceAccessed,
		Action:              string(p.Action),
	})
}

// DecodeEphemeralPolicy decodes an ephemeral policy column.
func DecodeEphemeralPolicy(col *string) (*coffer.EphemeralPolicy, error) {
	if col == nil {
		return nil, nil
	}
	var j ephemeralPolicyJSON
	if err := json.Unmarshal([]byte(*col), &j); err != nil {
		return nil, err
	}
	return &coffer.EphemeralPolicy{
		TTL:                 time.Duration(j.TTL),
		ExpiresOnceAccessed: j.ExpiresOnceAccessed,
		Action:              coffer.EphemeralAction(j.Action),
	}, nil
}

// rotationJSON is the stored form of a secret's rotation policy.
type rotationJSON struct {
	Enabled   bool     `json:"enabled"`
	Period    int64    `json:"period_ns"`
	NextRunAt *int64   `json:"next_run_at_us,omitempty"`
	Targets   []string `json:"targets,omitempty"`
	LastRunAt *int64   `json:"last_run_at_us,omitempty"`
	Job       *jobJSON `json:"job,omitempty"`
	TriggerID string   `json:"trigger_id,omitempty"`
}

// jobJSON is the stored form of a rotation job.
type jobJSON struct {
	ID        string `json:"id"`
	TokenHash []byte `json:"token_hash"`
	State     string `json:"state"`
	CreatedAt int64  `json:"created_at_us"`
	UpdatedAt int64  `json:"updated_at_us"`
	Action    string `json:"action,omitempty"`
	Deadline  *int64 `json:"deadline_us,omitempty"`
	Error     string `json:"error,omitempty"`
}

// EncodeRotation returns p as JSON, or NULL for nil.
func EncodeRotation(p *coffer.RotationPolicy) (*string, error) {
	if p == nil {
		return nil, nil
	}
	j := rotationJSON{Enabled: p.Enabled, Period: int64(p.Period), NextRunAt: Micros(p.NextRunAt), Targets: p.Targets, LastRunAt: Micros(p.LastRunAt), TriggerID: p.TriggerID}
	if p.Job != nil {
		j.Job = &jobJSON{ID: p.Job.ID, TokenHash: p.Job.TokenHash, State: string(p.Job.State),
			CreatedAt: p.Job.CreatedAt.UnixMicro(), UpdatedAt: p.Job.UpdatedAt.UnixMicro(),
			Action: p.Job.Action, Error: p.Job.Error}
		if !p.Job.Deadline.IsZero() {
			j.Job.Deadline = Micros(&p.Job.Deadline)
		}
	}
	return marshal(j)
}

// DecodeRotation decodes a rotation policy column.
func DecodeRotation(col *string) (*coffer.RotationPolicy, error) {
	if col == nil {
		return nil, nil
	}
	var j rotationJSON
	if err := json.Unmarshal([]byte(*col), &j); err != nil {
		return nil, err
	}
	p := &coffer.RotationPolicy{Enabled: j.Enabled, Period: time.Duration(j.Period), NextRunAt: Time(j.NextRunAt), Targets: j.Targets, LastRunAt: Time(j.LastRunAt), TriggerID: j.TriggerID}
	if j.Job != nil {
		p.Job = &coffer.RotationJob{ID: j.Job.ID, TokenHash: j.Job.TokenHash, State: coffer.RotationJobState(j.Job.State),
			CreatedAt: time.UnixMicro(j.Job.CreatedAt).UTC(), UpdatedAt: time.UnixMicro(j.Job.UpdatedAt).UTC(),
			Action: j.Job.Action, Error: j.Job.Error}
		if d := Time(j.Job.Deadline); d != nil {
			p.Job.Deadline = *d
		}
	}
	return p, nil
}

// versionEphemeralJSON is the stored form of a version's ephemeral
// properties but their expiry time, which has a column of its own.
type versionEphemeralJSON struct {
	ExpiresOnceAccessed bool   `json:"expires_once_accessed"`
	Action              string `json:"action"`
}

// EncodeVersionEphemeral returns e as its JSON column and its expires_at
// column, both NULL for nil.
func EncodeVersionEphemeral(e *coffer.EphemeralProperties) (ephemeral *string, expiresAt *int64, err error) {
	if e == nil {
		return nil, nil, nil
	}
	if !utf8.ValidString(string(e.Action)) {
		return nil, nil, ErrNotUTF8
	}
	j, err := marshal(versionEphemeralJSON{ExpiresOnceAccessed: e.ExpiresOnceAccessed, Action: string(e.Action)})
	if err != nil {
		return nil, nil, err
	}
	return j, Micros(e.ExpiresAt), nil
}

// DecodeVersionEphemeral decodes a version's ephemeral columns.
func DecodeVersionEphemeral(col *string, expiresAt *int64) (*coffer.EphemeralProperties, error) {
	if col == nil {
		return nil, nil
	}
	var j versionEphemeralJSON
	if err := json.Unmarshal([]byte(*col), &j); err != nil {
		return nil, err
	}
	return &coffer.EphemeralProperties{
		ExpiresAt:           Time(expiresAt),
		ExpiresOnceAccessed: j.ExpiresOnceAccessed,
		Action:              coffer.EphemeralAction(j.Action),
	}, nil
}

// marshal returns v as JSON text.
func marshal(v any) (*string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}
