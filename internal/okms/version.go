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
	_, v, err := h.svc.CreateVersion(r.Context(), s.ID, coffer.VersionCreate{Data: data, CAS: cas, JSONObject: true})
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
	rd, err := h.readVersion(r, t, t.version, include)
	if err != nil {
		return err
	}
	defer rd.Data.Wipe()
	writeJSON(w, http.StatusOK, toReadVersion(rd))
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

// readVersion reads, in one engine call, the secret a URL names and its
// version n (0: the current one) and, when include is set and the version
// is active, its data, which the caller wipes once written. A version
// whose data cannot be read (deactivated, deleted, expired) comes without
// data, as OKMS answers. Data that is not a JSON object, written through
// another API, cannot be shown here: it is an error that says so, and the
// version is left as it was.
func (h *Handler) readVersion(r *http.Request, t target, n uint32, include bool) (*coffer.VersionReadout, error) {
	folder, name := t.folderAndName()
	rd, err := h.svc.ReadVersion(r.Context(), coffer.VersionRead{
		ProjectID: okmsID(r), Path: folder, Name: name, Revision: n,
		Data: include, JSONObject: true,
	})
	if e := coffer.AsError(err); e != nil && e.Precondition == coffer.PreconditionNotJSONObject {
		return nil, coffer.Precondition(e.Precondition, e.Resource, e.ResourceID,
			fmt.Sprintf("version %s holds data that is not a JSON object, which the OKMS API cannot return: read it through the Scaleway API", e.ResourceID))
	}
	return rd, err
}

// toReadVersion is the version of a read, with its data when it holds
// some.
func toReadVersion(rd *coffer.VersionReadout) versionJSON {
	out := toVersion(rd.Version)
	if rd.Readable && rd.Data != nil {
		out.Data = json.RawMessage(rd.Data)
	}
	return out
}
