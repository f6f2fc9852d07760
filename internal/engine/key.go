package engine

import (
	"context"
	"unicode/utf8"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// CreateProtectionKey creates a user-managed protection key in a project and
// returns its id; secrets name it in KeyID to have their versions sealed
// under it. Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) CreateProtectionKey(ctx context.Context, projectID, name string) (string, error) {
	c, err := caller(ctx)
	if err != nil {
		return "", err
	}
	if err := validateID("project_id", projectID); err != nil {
		return "", err
	}
	if name == "" || len(name) > maxNameLen || !utf8.ValidString(name) {
		return "", coffer.Invalid("name", coffer.ReasonConstraint, "name must be 1 to 255 bytes of UTF-8")
	}
	var id string
	err = e.update(ctx, func(tx storage.Tx) error {
		if err := e.authorize(ctx, tx, c, actionKeys, projectID, "/"); err != nil {
			return err
		}
		k, err := e.keyring.CreateKey(ctx, tx, projectID, name)
		if err != nil {
			return err
		}
		id = k.ID
		return nil
	})
	return id, err
}
