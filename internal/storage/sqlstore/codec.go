package sqlstore

import (
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage/rowcodec"
)

// This file converts between domain values and the column values the
// schema holds (see the stores' migrations/0001_init.sql for the
// conventions). Values are bound as int64, string, []byte or nil, and
// scanned into plain Go types or database/sql's nullable ones, which both
// drivers handle without reflection.

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

// getUint32 returns the value of a column that holds a uint32.
func getUint32(n int64) (uint32, error) {
	if n < 0 || n > math.MaxUint32 {
		return 0, fmt.Errorf("value %d out of range for uint32", n)
	}
	return uint32(n), nil
}

// getUint32Ptr returns the value of a nullable column that holds a uint32.
func getUint32Ptr(n sql.NullInt64) (*uint32, error) {
	if !n.Valid {
		return nil, nil
	}
	v, err := getUint32(n.Int64)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// putBytes returns the value of a byte column that is never NULL: both
// drivers bind a nil slice as NULL.
func putBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// getBytes returns the value of a byte column that is never NULL. The
// SQLite driver reads an empty BLOB as nil; the value was not nil when it
// was written.
func getBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// getNullBytes returns the value of a nullable byte column, telling NULL
// (nil) from an empty value ([]byte{}) by a separate IS NULL column, since
// the SQLite driver reads both as nil.
func getNullBytes(b []byte, isNull bool) []byte {
	if isNull {
		return nil
	}
	return getBytes(b)
}

// The JSON columns are encoded by rowcodec; these adapt its *string and
// *int64 to database/sql's nullable types.

// nullString returns a nullable text column as *string.
func nullString(c sql.NullString) *string {
	if !c.Valid {
		return nil
	}
	return &c.String
}

// nullInt returns a nullable integer column as *int64.
func nullInt(c sql.NullInt64) *int64 {
	if !c.Valid {
		return nil
	}
	return &c.Int64
}

// textOrNull returns an encoded column for a statement: NULL for nil.
func textOrNull(s *string, err error) (any, error) {
	if s == nil || err != nil {
		return nil, err
	}
	return *s, nil
}

func putStrings(s []string) (any, error) { return textOrNull(rowcodec.EncodeStrings(s)) }
func getStrings(col sql.NullString) ([]string, error) {
	return rowcodec.DecodeStrings(nullString(col))
}
func putStringMap(m map[string]string) (any, error) { return textOrNull(rowcodec.EncodeStringMap(m)) }
func getStringMap(col sql.NullString) (map[string]string, error) {
	return rowcodec.DecodeStringMap(nullString(col))
}
func putStages(m map[string]uint32) (any, error) { return textOrNull(rowcodec.EncodeStages(m)) }
func getStages(col sql.NullString) (map[string]uint32, error) {
	return rowcodec.DecodeStages(nullString(col))
}
func putEphemeralPolicy(p *coffer.EphemeralPolicy) (any, error) {
	return textOrNull(rowcodec.EncodeEphemeralPolicy(p))
}
func getEphemeralPolicy(col sql.NullString) (*coffer.EphemeralPolicy, error) {
	return rowcodec.DecodeEphemeralPolicy(nullString(col))
}
func putRotation(p *coffer.RotationPolicy) (any, error) {
	return textOrNull(rowcodec.EncodeRotation(p))
}
func getRotation(col sql.NullString) (*coffer.RotationPolicy, error) {
	return rowcodec.DecodeRotation(nullString(col))
}

// putVersionEphemeral returns a version's ephemeral JSON column and its
// expires_at column, both NULL for nil.
func putVersionEphemeral(e *coffer.EphemeralProperties) (ephemeral, expiresAt any, err error) {
	j, at, err := rowcodec.EncodeVersionEphemeral(e)
	if err != nil || j == nil {
		return nil, nil, err
	}
	if at != nil {
		expiresAt = *at
	}
	return *j, expiresAt, nil
}

func getVersionEphemeral(col sql.NullString, expiresAt sql.NullInt64) (*coffer.EphemeralProperties, error) {
	return rowcodec.DecodeVersionEphemeral(nullString(col), nullInt(expiresAt))
}
