package vaultkv

import (
	"context"
	"net/http"

	"github.com/coffer-dev/coffer"
)

// versionAction changes one version of a secret in Vault's sense. It
// returns nil for a version the action does not apply to.
type versionAction func(ctx context.Context, secretID string, rev uint32) error

// deleteVersions answers delete/{path}: it soft-deletes (disables) the
// versions listed; versions that do not exist, or are deleted or destroyed
// already, are left as they are.
func (h *Handler) deleteVersions(w http.ResponseWriter, r *http.Request, project string) error {
	return h.versions(w, r, project, "No version number provided", func(ctx context.Context, id string, rev uint32) error {
		_, err := h.svc.DisableVersion(ctx, id, coffer.RevisionN(rev))
		return err
	})
}

// undeleteVersions answers undelete/{path}: it makes the versions listed
// readable again, whether they were disabled, expired or scheduled for
// deletion through another API. Destroyed versions stay destroyed.
func (h *Handler) undeleteVersions(w http.ResponseWriter, r *http.Request, project string) error {
	return h.versions(w, r, project, "No version number provided", func(ctx context.Context, id string, rev uint32) error {
		_, err := h.svc.UndeleteVersion(ctx, id, coffer.RevisionN(rev))
		return err
	})
}

// destroyVersions answers destroy/{path}: it erases the data of the
// versions listed, for good.
func (h *Handler) destroyVersions(w http.ResponseWriter, r *http.Request, project string) error {
	return h.versions(w, r, project, "no version number provided", func(ctx context.Context, id string, rev uint32) error {
		_, err := h.svc.DestroyVersion(ctx, id, coffer.RevisionN(rev))
		return err
	})
}

// versions runs a version action on each version a request lists, in order.
// A missing key is no error; nor is a version that does not exist, or that
// the action does not apply to.
func (h *Handler) versions(w http.ResponseWriter, r *http.Request, project, noVersions string, act versionAction) error {
	op, err := operationOf(r)
	if err != nil {
		return err
	}
	p := r.PathValue("path")
	if op != opUpdate {
		return errUnsupported
	}
	body, fields, err := readBody(r)
	if err != nil {
		return err
	}
	defer clear(body)
	revs, named, err := versionsField(fields)
	if err != nil {
		return err
	}
	if !named {
		return badRequest("%s", noVersions)
	}
	ctx := r.Context()
	s, err := h.lookup(ctx, project, p)
	if notFound(err) {
		answeredDone(ctx, err)
		writeNoContent(w)
		return nil
	} else if err != nil {
		return err
	}
	for _, rev := range revs {
		if rev > s.LastRevision || rev < s.OldestRevision {
			continue // no such version: pruned, or never written
		}
		if err := act(ctx, s.ID, rev); err != nil && !notFound(err) && !versionGone(err) {
			return err
		}
	}
	writeNoContent(w)
	return nil
}
