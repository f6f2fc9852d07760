package adminapi

import (
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
)

// registerKeys mounts the routes of protection-key rotation:
//
//	POST /coffer/v1/projects/{project_id}/keys/rotate     add a version to a key, re-wrap its data keys in the background
//	GET  /coffer/v1/projects/{project_id}/keys/rotations  the last rotation of each key of the project, with its progress
//
// A service without coffer.KeyRotationService leaves them out; the node's
// engine has it.
func (h *Handler) registerKeys(mux *http.ServeMux) {
	ks, ok := h.svc.(coffer.KeyRotationService)
	if !ok {
		return
	}
	mux.Handle("POST /projects/{project_id}/keys/rotate", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		var in RotateKeyRequest
		if r.ContentLength != 0 {
			if err := decode(r.Body, &in); err != nil {
				return err
			}
		}
		rot, err := ks.RotateProtectionKey(r.Context(), r.PathValue("project_id"), in.KeyID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, keyRotationJSON(rot))
		return nil
	}))
	mux.Handle("GET /projects/{project_id}/keys/rotations", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		rs, err := ks.ListKeyRotations(r.Context(), r.PathValue("project_id"))
		if err != nil {
			return err
		}
		out := KeyRotationsResponse{Rotations: make([]KeyRotation, 0, len(rs))}
		for _, rot := range rs {
			out.Rotations = append(out.Rotations, keyRotationJSON(rot))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}))
}

// RotateKeyRequest names the protection key to rotate; without key_id, the
// project's default key.
type RotateKeyRequest struct {
	KeyID string `json:"key_id,omitempty"`
}

// KeyRotation is a key's rotation and the progress of its re-wrap.
type KeyRotation struct {
	KeyID     string `json:"key_id"`
	ProjectID string `json:"project_id"`
	// Version is the key version the rotation added.
	Version uint32 `json:"version"`
	// State is rewrapping or complete.
	State       string     `json:"state"`
	Pass        int        `json:"pass"`
	Scanned     int64      `json:"scanned"`
	Rewrapped   int64      `json:"rewrapped"`
	Total       int64      `json:"total"`
	StartedAt   time.Time  `json:"started_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// KeyRotationsResponse lists a project's key rotations.
type KeyRotationsResponse struct {
	Rotations []KeyRotation `json:"rotations"`
}

func keyRotationJSON(r *coffer.KeyRotation) KeyRotation {
	return KeyRotation{
		KeyID: r.KeyID, ProjectID: r.ProjectID, Version: r.Version, State: string(r.State),
		Pass: r.Pass, Scanned: r.Scanned, Rewrapped: r.Rewrapped, Total: r.Total,
		StartedAt: r.StartedAt, UpdatedAt: r.UpdatedAt, CompletedAt: r.CompletedAt,
	}
}
