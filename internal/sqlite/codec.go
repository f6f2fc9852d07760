package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/coffer-dev/coffer"
)

// This file converts between domain values and the column values the schema
// holds (see migrations/0001_init.sql for the conventions). The JSON shapes
// are spelled out in types of their own, with explicit names, so that renaming
// a Go field never changes what is on disk.

// putTime returns t as microseconds since the Unix epoch.
func putTime(t time.Time) int64 { return t.UnixMicro() }

// putTimePtr returns t as microseconds since the Unix epoch, or NULL.
func putTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// getTime returns the UTC time of a count of microseconds.
func getTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// getTimePtr returns the UTC time of a count of microseconds, or nil.
func getTimePtr(us sql.NullInt64) *time.Time {
	if !us.Valid {
		return nil
	}
	t := getTime(us.Int64)
	return &t
}

// putUint32Ptr returns *v, or NULL.
func putUint32Ptr(v *uint32) any {
	if v == nil {
		return nil
	}
	return int64(*v)
}

// getUint32Ptr returns the value of a nullable column that holds a uint32.
func getUint32Ptr(n sql.NullInt64) (*uint32, error) {
	if !n.Valid {
		return nil, nil
	}
	if n.Int64 < 0 || n.Int64 > math.MaxUint32 {
		return nil, fmt.Errorf("value %d out of range for uint32", n.Int64)
	}
	v := uint32(n.Int64)
	return &v, nil
}

// getBytes returns the value of a BLOB column that is never NULL. The driver
// reads an empty BLOB as nil; the value was not nil when it was written.
func getBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// getNullBytes returns the value of a nullable BLOB column, telling NULL
// (nil) from an empty value ([]byte{}) by a separate IS NULL column.
func getNullBytes(b []byte, isNull bool) []byte {
	if isNull {
		return nil
	}
	return getBytes(b)
}

// errNotUTF8 is returned for text that JSON cannot carry unchanged.
var errNotUTF8 = errors.New("text is not valid UTF-8")

// putStrings returns s as a JSON array, or NULL for a nil slice.
func putStrings(s []string) (any, error) {
	if s == nil {
		return nil, nil
	}
	for _, v := range s {
		if !utf8.ValidString(v) {
			return nil, errNotUTF8
		}
	}
	return marshal(s)
}

// getStrings decodes a JSON array column.
func getStrings(col sql.NullString) ([]string, error) {
	if !col.Valid {
		return nil, nil
	}
	var s []string
	if err := json.Unmarshal([]byte(col.String), &s); err != nil {
		return nil, err
	}
	if s == nil {
		s = []string{} // a column is NULL for nil; "null" is not written
	}
	return s, nil
}

// putStringMap returns m as a JSON object, or NULL for a nil map.
func putStringMap(m map[string]string) (any, error) {
	if m == nil {
		return nil, nil
	}
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, errNotUTF8
		}
	}
	return marshal(m)
}

// getStringMap decodes a JSON object column.
func getStringMap(col sql.NullString) (map[string]string, error) {
	if !col.Valid {
		return nil, nil
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(col.String), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// putStages returns a secret's stages as a JSON object, or NULL for nil.
func putStages(m map[string]uint32) (any, error) {
	if m == nil {
		return nil, nil
	}
	for k := range m {
		if !utf8.ValidString(k) {
			return nil, errNotUTF8
		}
	}
	return marshal(m)
}

// getStages decodes a stages column.
func getStages(col sql.NullString) (map[string]uint32, error) {
	if !col.Valid {
		return nil, nil
	}
	m := map[string]uint32{}
	if err := json.Unmarshal([]byte(col.String), &m); err != nil {
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

// putEphemeralPolicy returns p as JSON, or NULL for nil.
func putEphemeralPolicy(p *coffer.EphemeralPolicy) (any, error) {
	if p == nil {
		return nil, nil
	}
	if !utf8.ValidString(string(p.Action)) {
		return nil, errNotUTF8
	}
	return marshal(ephemeralPolicyJSON{
		TTL:                 int64(p.TTL),
		ExpiresOnceAccessed: p.ExpiresOnceAccessed,
		Action:              string(p.Action),
	})
}

// getEphemeralPolicy decodes an ephemeral policy column.
func getEphemeralPolicy(col sql.NullString) (*coffer.EphemeralPolicy, error) {
	if !col.Valid {
		return nil, nil
	}
	var j ephemeralPolicyJSON
	if err := json.Unmarshal([]byte(col.String), &j); err != nil {
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
	Enabled   bool   `json:"enabled"`
	Period    int64  `json:"period_ns"`
	NextRunAt *int64 `json:"next_run_at_us,omitempty"`
}

// putRotation returns p as JSON, or NULL for nil.
func putRotation(p *coffer.RotationPolicy) (any, error) {
	if p == nil {
		return nil, nil
	}
	j := rotationJSON{Enabled: p.Enabled, Period: int64(p.Period)}
	if p.NextRunAt != nil {
		us := p.NextRunAt.UnixMicro()
		j.NextRunAt = &us
	}
	return marshal(j)
}

// getRotation decodes a rotation policy column.
func getRotation(col sql.NullString) (*coffer.RotationPolicy, error) {
	if !col.Valid {
		return nil, nil
	}
	var j rotationJSON
	if err := json.Unmarshal([]byte(col.String), &j); err != nil {
		return nil, err
	}
	p := &coffer.RotationPolicy{Enabled: j.Enabled, Period: time.Duration(j.Period)}
	if j.NextRunAt != nil {
		t := getTime(*j.NextRunAt)
		p.NextRunAt = &t
	}
	return p, nil
}

// versionEphemeralJSON is the stored form of a version's ephemeral
// properties but their expiry time, which has a column of its own.
type versionEphemeralJSON struct {
	ExpiresOnceAccessed bool   `json:"expires_once_accessed"`
	Action              string `json:"action"`
}

// putVersionEphemeral returns e as its JSON column and its expires_at
// column, both NULL for nil.
func putVersionEphemeral(e *coffer.EphemeralProperties) (ephemeral, expiresAt any, err error) {
	if e == nil {
		return nil, nil, nil
	}
	if !utf8.ValidString(string(e.Action)) {
		return nil, nil, errNotUTF8
	}
	j, err := marshal(versionEphemeralJSON{
		ExpiresOnceAccessed: e.ExpiresOnceAccessed,
		Action:              string(e.Action),
	})
	if err != nil {
		return nil, nil, err
	}
	return j, putTimePtr(e.ExpiresAt), nil
}

// getVersionEphemeral decodes a version's ephemeral columns.
func getVersionEphemeral(col sql.NullString, expiresAt sql.NullInt64) (*coffer.EphemeralProperties, error) {
	if !col.Valid {
		return nil, nil
	}
	var j versionEphemeralJSON
	if err := json.Unmarshal([]byte(col.String), &j); err != nil {
		return nil, err
	}
	return &coffer.EphemeralProperties{
		ExpiresAt:           getTimePtr(expiresAt),
		ExpiresOnceAccessed: j.ExpiresOnceAccessed,
		Action:              coffer.EphemeralAction(j.Action),
	}, nil
}

// marshal returns v as JSON text.
func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
