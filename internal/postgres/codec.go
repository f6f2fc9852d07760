package postgres

import (
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
// are those of the SQLite store, spelled out in types of their own with
// explicit names, so that renaming a Go field never changes what is stored
// and a database moved between the backends reads the same.

// putTime returns t as microseconds since the Unix epoch.
func putTime(t time.Time) int64 { return t.UnixMicro() }

// putTimePtr returns t as microseconds since the Unix epoch, or NULL.
func putTimePtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	us := t.UnixMicro()
	return &us
}

// getTime returns the UTC time of a count of microseconds.
func getTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// getTimePtr returns the UTC time of a count of microseconds, or nil.
func getTimePtr(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := getTime(*us)
	return &t
}

// putUint32Ptr returns *v, or NULL.
func putUint32Ptr(v *uint32) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}

// getUint32 returns the value of a column that holds a uint32.
func getUint32(n int64) (uint32, error) {
	if n < 0 || n > math.MaxUint32 {
		return 0, fmt.Errorf("value %d out of range for uint32", n)
	}
	return uint32(n), nil
}

// getUint32Ptr returns the value of a nullable column that holds a uint32.
func getUint32Ptr(n *int64) (*uint32, error) {
	if n == nil {
		return nil, nil
	}
	v, err := getUint32(*n)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// getBytes returns the value of a bytea column that is never NULL: empty,
// not nil, when empty.
func getBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// putBytes returns the value of a bytea column that is never NULL.
func putBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// errNotUTF8 is returned for text that JSON cannot carry unchanged.
var errNotUTF8 = errors.New("text is not valid UTF-8")

// putStrings returns s as a JSON array, or NULL for a nil slice.
func putStrings(s []string) (*string, error) {
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
func getStrings(col *string) ([]string, error) {
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

// putStringMap returns m as a JSON object, or NULL for a nil map.
func putStringMap(m map[string]string) (*string, error) {
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
func getStringMap(col *string) (map[string]string, error) {
	if col == nil {
		return nil, nil
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(*col), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// putStages returns a secret's stages as a JSON object, or NULL for nil.
func putStages(m map[string]uint32) (*string, error) {
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
func getStages(col *string) (map[string]uint32, error) {
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

// putEphemeralPolicy returns p as JSON, or NULL for nil.
func putEphemeralPolicy(p *coffer.EphemeralPolicy) (*string, error) {
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
func getEphemeralPolicy(col *string) (*coffer.EphemeralPolicy, error) {
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
	Enabled   bool   `json:"enabled"`
	Period    int64  `json:"period_ns"`
	NextRunAt *int64 `json:"next_run_at_us,omitempty"`
}

// putRotation returns p as JSON, or NULL for nil.
func putRotation(p *coffer.RotationPolicy) (*string, error) {
	if p == nil {
		return nil, nil
	}
	return marshal(rotationJSON{Enabled: p.Enabled, Period: int64(p.Period), NextRunAt: putTimePtr(p.NextRunAt)})
}

// getRotation decodes a rotation policy column.
func getRotation(col *string) (*coffer.RotationPolicy, error) {
	if col == nil {
		return nil, nil
	}
	var j rotationJSON
	if err := json.Unmarshal([]byte(*col), &j); err != nil {
		return nil, err
	}
	return &coffer.RotationPolicy{Enabled: j.Enabled, Period: time.Duration(j.Period), NextRunAt: getTimePtr(j.NextRunAt)}, nil
}

// versionEphemeralJSON is the stored form of a version's ephemeral
// properties but their expiry time, which has a column of its own.
type versionEphemeralJSON struct {
	ExpiresOnceAccessed bool   `json:"expires_once_accessed"`
	Action              string `json:"action"`
}

// putVersionEphemeral returns e as its JSON column and its expires_at
// column, both NULL for nil.
func putVersionEphemeral(e *coffer.EphemeralProperties) (ephemeral *string, expiresAt *int64, err error) {
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
func getVersionEphemeral(col *string, expiresAt *int64) (*coffer.EphemeralProperties, error) {
	if col == nil {
		return nil, nil
	}
	var j versionEphemeralJSON
	if err := json.Unmarshal([]byte(*col), &j); err != nil {
		return nil, err
	}
	return &coffer.EphemeralProperties{
		ExpiresAt:           getTimePtr(expiresAt),
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

// durationOf returns a duration stored as nanoseconds.
func durationOf(ns int64) time.Duration { return time.Duration(ns) }
