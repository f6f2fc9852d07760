package engine

import (
	"context"
	"fmt"
	"hash/crc32"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// CreateSecretWithVersion creates a secret and its first version in one
// transaction, as OKMS creates a secret: either both exist afterwards or
// neither does. Unlike a path write (VersionCreate.CreateSecret), it never
// adds a version to an existing secret: a secret at the path, whatever its
// versions, is ECONFLICT. The first version of a new secret needs no
// check-and-set, whatever the secret's or its project's cas_required, so
// v.CAS and v.CreateSecret are ignored. A secret without a type gets the
// one a path write would give it (see VersionCreate.CreateSecret).
//
// Returns EINVALID, ENOTFOUND (project, key), ECONFLICT, EQUOTA, EFORBIDDEN.
func (e *Engine) CreateSecretWithVersion(ctx context.Context, sc coffer.SecretCreate, v coffer.VersionCreate) (*coffer.Secret, *coffer.Version, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := e.checkVersionData(v); err != nil {
		return nil, nil, err
	}
	s, err := e.newSecret(withInferredType(sc, v.Data))
	if err != nil {
		return nil, nil, err
	}
	v.CreateSecret = nil
	v.CAS = ptr(uint32(0))
	var sv *storage.Version
	err = e.update(ctx, func(tx storage.Tx) error {
		if err := e.insertSecret(ctx, tx, c, s); err != nil {
			return err
		}
		sv, err = e.addVersion(ctx, tx, c, s, v)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return s, &sv.Version, nil
}

// checkVersionData checks the data of a new version against the size limit,
// the CRC32 the writer gave and, for a write of a JSON object (Vault, OKMS),
// its form: one JSON object in UTF-8. The secret's type is checked later,
// in the write's transaction (validatePayload).
func (e *Engine) checkVersionData(v coffer.VersionCreate) error {
	if len(v.Data) > e.limits.MaxPayloadSize {
		return coffer.Invalid("data", coffer.ReasonConstraint, fmt.Sprintf("data must be at most %d bytes", e.limits.MaxPayloadSize))
	}
	if v.DataCRC32 != nil && crc32.ChecksumIEEE(v.Data) != *v.DataCRC32 {
		return coffer.Invalid("data_crc32", coffer.ReasonConstraint, "data_crc32 does not match the CRC32 (IEEE) of data")
	}
	if v.JSONObject {
		if err := checkJSONText(v.Data); err != nil {
			return err
		}
		if !isJSONObject(v.Data) {
			return coffer.Invalid("data", coffer.ReasonFormat, "data must be a JSON object")
		}
	}
	return nil
}
