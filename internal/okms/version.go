package okms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) listVersions(w http.ResponseWriter, r *http.Request, t target) error {
	offset, limit, err := page(r)
	if err != nil {
		return err
	}
	s, err := h.lookup(r, t)
	if err != nil {
		return err
	}
	versions, total, err := h.svc.ListVersions(r.Context(), s.ID, coffer.VersionFilter{Offset: offset, Limit: limit})
	if err != nil {
		return err
	}
	out := make([]versionJSON, len(versions))
	for i, v := range versions {
		out[i] = toVersion(v)
	}
	setNext(w, offset, len(versions), total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createVersion(w http.ResponseWriter, r *http.Request, t target) error {
	q := newQuery(r)
	cas := q.uint32("cas", 0)
	if q.err != nil {
		return q.err
	}
	var req versionInput
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	data, err := secretData("data", req.Data)
	defer data.Wipe()
	if err != nil {
		return err
	}
	s, err := h.lookup(r, t)
	if err != nil {
		return err
	}
	_, v, err := h.svc.CreateVersion(r.Context(), s.ID, coffer.VersionCreate{Data: data, CAS: cas})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVersion(v))
	return nil
}

func (h *Handler) getVersion(w http.ResponseWriter, r *http.Request, t target) error {
	q := newQuery(r)
	include := q.boolean("includeData", false)
	if q.err != nil {
		return q.err
	}
	s, err := h.lookup(r, t)
	if err != nil {
		return err
	}
	v, data, err := h.readVersion(r, s.ID, t.version, include)
	defer data.Wipe()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// updateVersion moves a version to the state asked for: active
// (enabled), deactivated (disabled) or deleted (destroyed, for good).
func (h *Handler) updateVersion(w http.ResponseWriter, r *http.Request, t target) error {
	var req updateVersionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.State == nil {
		return coffer.Invalid("state", coffer.ReasonRequired, "state is required: active, deactivated or deleted")
	}
	var change func(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error)
	switch *req.State {
	case stateActive:
		change = h.svc.UndeleteVersion
	case stateDeactivated:
		change = h.svc.DisableVersion
	case stateDeleted:
		change = h.svc.DestroyVersion
	default:
		return coffer.Invalid("state", coffer.ReasonConstraint, fmt.Sprintf("state must be active, deactivated or deleted, not %q", clip(*req.State, 32)))
	}
	s, err := h.lookup(r, t)
	if err != nil {
		return err
	}
	v, err := change(r.Context(), s.ID, coffer.RevisionN(t.version))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVersion(v))
	return nil
}

// readVersion returns a version and, when include is set and the version
// is active, its data, which the caller wipes once written. A version
// whose data cannot be read (deactivated, deleted, expired) comes without
// data, as OKMS answers. Data that is not a JSON object, written through
// another API, cannot be shown here: it is an error that says so.
func (h *Handler) readVersion(r *http.Request, secretID string, n uint32, include bool) (versionJSON, coffer.Payload, error) {
	ctx := r.Context()
	rev := coffer.RevisionN(n)
	if include {
		_, v, data, err := h.svc.AccessVersion(ctx, secretID, rev)
		switch {
		case err == nil:
			if !isJSONObject(data) {
				data.Wipe()
				return versionJSON{}, nil, coffer.Precondition(coffer.PreconditionNotJSONObject, "secret_version", fmt.Sprint(n),
					fmt.Sprintf("version %d holds data that is not a JSON object, which the OKMS API cannot return: read it through the Scaleway API", n))
			}
			out := toVersion(v)
			out.Data = json.RawMessage(data)
			return out, data, nil
		case !versionUnreadable(err):
			return versionJSON{}, nil, err
		}
	}
	v, err := h.svc.GetVersion(ctx, secretID, rev)
	if err != nil {
		return versionJSON{}, nil, err
	}
	return toVersion(v), nil, nil
}

// versionUnreadable reports whether err says that a version's data cannot
// be read because of the version's state; one about the secret (scheduled
// for deletion) stays an error.
func versionUnreadable(err error) bool {
	e := coffer.AsError(err)
	return e != nil && e.Code == coffer.EPRECONDITION && e.Resource == "secret_version"
}
