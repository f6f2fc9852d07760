package engine

import (
	"context"
	"io"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// errNotBackupOperator is the error of a caller that may not back up the
// store.
var errNotBackupOperator = &coffer.Error{
	Code: coffer.EFORBIDDEN, Message: "only an admin of the system organization may back up the store",
	Resource: "store", Action: "backup",
}

// Backup streams a consistent dump of the whole store: every row as
// stored, sealed data and wrapped keys included, never a plaintext. Only
// an operator (an admin of the system organization that no project
// scopes) may take one, since it holds every organization. Once the caller is authorized, Backup calls open,
// which starts the response (and writes its audit record), and dumps into
// the writer it returns; an error after that point leaves the dump
// without its end, which a reader refuses. Returns EUNAUTHENTICATED,
// EFORBIDDEN, EUNAVAILABLE.
func (e *Engine) Backup(ctx context.Context, open func() (io.Writer, error)) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	var sys string
	if err := e.view(ctx, func(tx storage.Tx) error {
		sys, err = systemOrganization(ctx, tx)
		return err
	}); err != nil {
		return storageErr(err, "meta", metaSystemOrganization)
	}
	if !isOperator(c, sys) {
		return errNotBackupOperator
	}
	if e.dump == nil {
		return &coffer.Error{Code: coffer.EUNAVAILABLE, Message: "this node's store cannot be backed up online"}
	}
	w, err := open()
	if err != nil {
		return err
	}
	return e.dump(ctx, w)
}
