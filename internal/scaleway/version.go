package scaleway

import (
	"encoding/json"
	"net/http"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) createVersion(w http.ResponseWriter, r *http.Request) error {
	var req createVersionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	in, err := req.versionCreate()
	defer in.Data.Wipe()
	if err != nil {
		return err
	}
	_, v, err := h.svc.CreateVersion(r.Context(), r.PathValue("secret_id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVersion(v, region(r)))
	return nil
}

func (h *Handler) listVersions(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := coffer.VersionFilter{Descending: true}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	for _, s := range q.list("status") {
		switch s {
		case "unknown_status":
		case "enabled", "disabled", "scheduled_for_deletion":
			f.States = append(f.States, coffer.VersionState(s))
		case "deleted":
			f.States = append(f.States, coffer.VersionDestroyed)
		default:
			return coffer.Invalid("status", coffer.ReasonConstraint, "status must be enabled, disabled, scheduled_for_deletion or deleted")
		}
	}
	versions, total, err := h.svc.ListVersions(r.Context(), r.PathValue("secret_id"), f)
	if err != nil {
		return err
	}
	out := listVersionsJSON{Versions: make([]versionJSON, len(versions)), TotalCount: total}
	for i, v := range versions {
		out.Versions[i] = toVersion(v, region(r))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// versionAction runs one engine call on the {secret_id} and {revision} of
// the request and writes the version it returns.
func (h *Handler) versionAction(w http.ResponseWriter, r *http.Request, body bool,
	fn func(r *http.Request, secretID string, rev coffer.Revision) (*coffer.Version, error)) error {
	if body {
		if err := decodeBody(r, &struct{}{}); err != nil {
			return err
		}
	}
	rev, err := coffer.ParseRevision(r.PathValue("revision"))
	if err != nil {
		return err
	}
	v, err := fn(r, r.PathValue("secret_id"), rev)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVersion(v, region(r)))
	return nil
}

func (h *Handler) getVersion(w http.ResponseWriter, r *http.Request) error {
	return h.versionAction(w, r, false, func(r *http.Request, id string, rev coffer.Revision) (*coffer.Version, error) {
		return h.svc.GetVersion(r.Context(), id, rev)
	})
}

func (h *Handler) updateVersion(w http.ResponseWriter, r *http.Request) error {
	var req updateVersionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, err := req.versionUpdate()
	if err != nil {
		return err
	}
	return h.versionAction(w, r, false, func(r *http.Request, id string, rev coffer.Revision) (*coffer.Version, error) {
		return h.svc.UpdateVersion(r.Context(), id, rev, u)
	})
}

func (h *Handler) enableVersion(w http.ResponseWriter, r *http.Request) error {
	return h.versionAction(w, r, true, func(r *http.Request, id string, rev coffer.Revision) (*coffer.Version, error) {
		return h.svc.EnableVersion(r.Context(), id, rev)
	})
}

func (h *Handler) disableVersion(w http.ResponseWriter, r *http.Request) error {
	return h.versionAction(w, r, true, func(r *http.Request, id string, rev coffer.Revision) (*coffer.Version, error) {
		return h.svc.DisableVersion(r.Context(), id, rev)
	})
}

func (h *Handler) restoreVersion(w http.ResponseWriter, r *http.Request) error {
	return h.versionAction(w, r, true, func(r *http.Request, id string, rev coffer.Revision) (*coffer.Version, error) {
		return h.svc.RestoreVersion(r.Context(), id, rev)
	})
}

func (h *Handler) deleteVersion(w http.ResponseWriter, r *http.Request) error {
	rev, err := coffer.ParseRevision(r.PathValue("revision"))
	if err != nil {
		return err
	}
	if _, err := h.svc.ScheduleVersionDeletion(r.Context(), r.PathValue("secret_id"), rev); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

func (h *Handler) accessVersion(w http.ResponseWriter, r *http.Request) error {
	rev, err := coffer.ParseRevision(r.PathValue("revision"))
	if err != nil {
		return err
	}
	return h.access(w, r, r.PathValue("secret_id"), rev)
}

func (h *Handler) accessVersionByPath(w http.ResponseWriter, r *http.Request) error {
	rev, err := coffer.ParseRevision(r.PathValue("revision"))
	if err != nil {
		return err
	}
	q := newQuery(r)
	s, err := h.svc.GetSecretByPath(r.Context(), defaultProject(r.Context(), q.str("project_id")), q.str("secret_path"), q.str("secret_name"))
	if err != nil {
		return err
	}
	return h.access(w, r, s.ID, rev)
}

// access writes a version's data and wipes every plaintext buffer it made.
func (h *Handler) access(w http.ResponseWriter, r *http.Request, secretID string, rev coffer.Revision) error {
	s, v, data, err := h.svc.AccessVersion(r.Context(), secretID, rev)
	if err != nil {
		return err
	}
	defer data.Wipe()
	// An empty payload is "" on the wire: a nil slice would encode as null.
	b, err := json.Marshal(accessJSON{SecretID: s.ID, Revision: v.Revision, Data: nonNil(data), DataCRC32: v.DataCRC32, Type: s.Type})
	if err != nil {
		return err
	}
	defer clear(b)
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}
