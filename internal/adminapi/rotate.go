package adminapi

import (
	"context"
	"net/http"

	"github.com/coffer-dev/coffer"
)

// FieldRotator is what the rotate route needs of the engine.
type FieldRotator interface {
	// RotateFields writes a new version of a key_value secret in which
	// each field named in lengths (no lengths: each rotation target) holds
	// a new random string of that length. Returns EINVALID, ENOTFOUND,
	// EFORBIDDEN, EPRECONDITION, EQUOTA.
	RotateFields(ctx context.Context, secretID string, lengths map[string]int) (*coffer.Secret, *coffer.Version, error)
}

// registerRotate mounts the rotate route:
//
//	POST /coffer/v1/secrets/{secret_id}/rotate   new random values for fields of a key_value secret
//
// A service without FieldRotator leaves the route out; the node asserts
// that its engine has it.
func (h *Handler) registerRotate(mux *http.ServeMux) {
	fr, ok := h.svc.(FieldRotator)
	if !ok {
		return
	}
	mux.Handle("POST /secrets/{secret_id}/rotate", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return rotateFields(w, r, fr)
	}))
}

// RotateRequest names the fields to rotate and the length of each new
// value (5 to 32); without fields, the secret's rotation targets are
// rotated, 12 characters each.
type RotateRequest struct {
	Fields map[string]int `json:"fields,omitempty"`
}

// RotateResponse is the new version, never its value.
type RotateResponse struct {
	SecretID string `json:"secret_id"`
	Revision uint32 `json:"revision"`
}

func rotateFields(w http.ResponseWriter, r *http.Request, fr FieldRotator) error {
	var in RotateRequest
	if r.ContentLength != 0 {
		if err := decode(r.Body, &in); err != nil {
			return err
		}
	}
	s, v, err := fr.RotateFields(r.Context(), r.PathValue("secret_id"), in.Fields)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RotateResponse{SecretID: s.ID, Revision: v.Revision})
	return nil
}
