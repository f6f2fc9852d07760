package postgres

import (
	"fmt"
	"math"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage/rowcodec"
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

// The JSON columns are encoded by rowcodec, shared with the SQLite store so
// that both keep one shape; the drivers take and give *string as is.

func putStrings(s []string) (*string, error)            { return rowcodec.EncodeStrings(s) }
func getStrings(col *string) ([]string, error)          { return rowcodec.DecodeStrings(col) }
func putStringMap(m map[string]string) (*string, error) { return rowcodec.EncodeStringMap(m) }
func getStringMap(col *string) (map[string]string, error) {
	return rowcodec.DecodeStringMap(col)
}
func putStages(m map[string]uint32) (*string, error)   { return rowcodec.EncodeStages(m) }
func getStages(col *string) (map[string]uint32, error) { return rowcodec.DecodeStages(col) }
func putEphemeralPolicy(p *coffer.EphemeralPolicy) (*string, error) {
	return rowcodec.EncodeEphemeralPolicy(p)
}
func getEphemeralPolicy(col *string) (*coffer.EphemeralPolicy, error) {
	return rowcodec.DecodeEphemeralPolicy(col)
}
func putRotation(p *coffer.RotationPolicy) (*string, error) { return rowcodec.EncodeRotation(p) }
func getRotation(col *string) (*coffer.RotationPolicy, error) {
	return rowcodec.DecodeRotation(col)
}
func putVersionEphemeral(e *coffer.EphemeralProperties) (*string, *int64, error) {
	return rowcodec.EncodeVersionEphemeral(e)
}
func getVersionEphemeral(col *string, expiresAt *int64) (*coffer.EphemeralProperties, error) {
	return rowcodec.DecodeVersionEphemeral(col, expiresAt)
}

// durationOf returns a duration stored as nanoseconds.
func durationOf(ns int64) time.Duration { return time.Duration(ns) }
