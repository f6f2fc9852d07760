package engine

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// ReadVersion reads one version of the secret at a path for the dialects
// that name secrets by path (Vault KV v2, OKMS): one call per request, so
// that no rule is left to a handler and no state changes between a lookup
// and the read that follows it.
//
// Most reads are one read transaction: the secret by path, the version, its
// data. A version that expires once accessed, or whose expiry has passed,
// is read again in one write transaction, as AccessVersion does, so that
// its policy fires exactly once. Every refusal, the JSON-object rule
// included, comes before the policy fires: a refused read leaves the
// version as it was.
//
// The rights are those of the calls it replaces: finding the secret by path
// takes any right on secrets there (actionLocate); the data takes the right
// to access them; the metadata alone, or that of a version whose data
// cannot be read, the right to read them. A read that hands out data is
// noted for the version's accessed_at, as AccessVersion notes it.
func (e *Engine) ReadVersion(ctx context.Context, in coffer.VersionRead) (*coffer.VersionReadout, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	action := actionRead
	if in.Data {
		action = actionAccess
	}
	var (
		out      coffer.VersionReadout
		secretID string
		rev      uint32
		retry    bool
	)
	now := e.Now()
	err = e.view(ctx, func(tx storage.Tx) error {
		out.Data.Wipe()
		out, retry = coffer.VersionReadout{}, false
		s, err := e.loadSecretByPath(ctx, tx, c, actionLocate, in.ProjectID, in.Path, in.Name)
		if err != nil {
			return err
		}
		secretID = s.ID
		if rev = cmp.Or(in.Revision, s.LastRevision); in.Revision == 0 && rev == s.LatestRevision && rev != 0 {
			// The current version is the active stage's, when a
			// pending or previous value was written above it.
			if rev, err = currentRevision(ctx, tx, s); err != nil {
				return err
			}
		}
		if rev == 0 {
			// No version yet: the secret alone, to a caller with the right
			// the read asked for.
			out.Secret, err = e.loadSecret(ctx, tx, c, action, s.ID)
			return err
		}
		// The secret was found with any right on secrets there: the
		// read needs its own.
		if err := e.authorize(ctx, tx, c, action, s.ProjectID, s.Path); err != nil {
			return err
		}
		v, err := versionOf(ctx, tx, s, coffer.RevisionN(rev))
		if err != nil {
			return err
		}
		retry, err = e.readIn(ctx, tx, c, in, s, v, now, false, &out)
		return err
	})
	if err == nil && retry {
		err = e.update(ctx, func(tx storage.Tx) error {
			out.Data.Wipe()
			out = coffer.VersionReadout{}
			s, v, err := e.loadVersion(ctx, tx, c, action, secretID, coffer.RevisionN(rev))
			if err != nil {
				return err
			}
			_, err = e.readIn(ctx, tx, c, in, s, v, e.Now(), true, &out)
			return err
		})
	}
	if err != nil {
		out.Data.Wipe()
		return nil, err
	}
	if in.Data && out.Readable {
		e.recordAccess(out.Secret.ID, out.Version.Revision, now)
	}
	return &out, nil
}

// readIn reads v, a version of s, for in, at now, into out. In a read
// transaction (fire false) it does nothing and returns true where an
// ephemeral policy would fire: the caller then reads again in a write
// transaction, where it fires, after every check.
func (e *Engine) readIn(ctx context.Context, tx storage.Tx, c *coffer.Caller, in coffer.VersionRead, s *coffer.Secret, v *storage.Version, now time.Time, fire bool, out *coffer.VersionReadout) (retry bool, err error) {
	defer func() { v.Data = nil }()
	out.Secret, out.Version = s, &v.Version
	passed := expired(v, now)
	if !in.Data {
		out.Readable = v.Readable() && !passed
		return false, nil
	}
	if err := usable(s); err != nil {
		return false, err
	}
	once := v.Ephemeral != nil && v.Ephemeral.ExpiresOnceAccessed
	if v.Readable() && (once || passed) && !fire {
		return true, nil
	}
	if v.Readable() && !passed {
		data, err := e.open(ctx, tx, s, v)
		if err != nil {
			return false, err
		}
		if in.JSONObject && !isJSONObject(data) {
			data.Wipe()
			return false, coffer.Precondition(coffer.PreconditionNotJSONObject, "secret_version", fmt.Sprint(v.Revision),
				fmt.Sprintf("the data of version %d of the secret is not a JSON object", v.Revision))
		}
		if once {
			v.AccessedAt = &now
			if err := e.expire(ctx, tx, s, v, now); err != nil {
				data.Wipe()
				return false, err
			}
			v.Latest = v.Revision == s.LatestRevision
		}
		out.Readable, out.Data = true, data
		return false, nil
	}
	// The version exists but its data cannot be read: its metadata is all
	// the answer holds, which takes the right to read metadata.
	if err := e.authorize(ctx, tx, c, actionRead, s.ProjectID, s.Path); err != nil {
		return false, err
	}
	if v.Readable() {
		// Its expiry has passed (fire is set): the policy fires now, as
		// the due job would.
		if err := e.expire(ctx, tx, s, v, now); err != nil {
			return false, err
		}
		v.Latest = v.Revision == s.LatestRevision
	}
	return false, nil
}

// isJSONObject reports whether data is exactly one JSON object, in UTF-8
// (json.Valid alone lets invalid bytes through inside strings).
func isJSONObject(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) && utf8.Valid(data) && json.Valid(data)
}
