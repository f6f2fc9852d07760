package adminapi

import (
	"context"
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
)

// ProjectSettingsChanger is what the project settings route needs of the
// engine.
type ProjectSettingsChanger interface {
	// ChangeProjectSettings changes some of a project's settings.
	// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
	ChangeProjectSettings(ctx context.Context, id string, u coffer.ProjectSettingsUpdate) (*coffer.Project, error)
}

// registerProjectSettings mounts the project settings route:
//
//	PATCH /coffer/v1/projects/{id}   change a project's settings (admin)
//
// A service without ProjectSettingsChanger leaves the route out; the node
// asserts that its engine has it.
func (h *Handler) registerProjectSettings(mux *http.ServeMux) {
	pc, ok := h.svc.(ProjectSettingsChanger)
	if !ok {
		return
	}
	mux.Handle("PATCH /projects/{id}", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return changeProject(w, r, pc)
	}))
}

// UpdateProjectRequest changes a project's settings; absent fields are
// left alone. DeletionDelayDays is the waiting period of a secret
// scheduled for deletion (NAVER's request-deletion, Scaleway's
// DeleteSecret), 1 to 90 days; 0 restores the default, 7.
type UpdateProjectRequest struct {
	DeletionDelayDays *int `json:"deletion_delay_days"`
}

func changeProject(w http.ResponseWriter, r *http.Request, pc ProjectSettingsChanger) error {
	var req UpdateProjectRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	var u coffer.ProjectSettingsUpdate
	if d := req.DeletionDelayDays; d != nil {
		if *d < 0 || *d > 90 {
			return coffer.Invalid("deletion_delay_days", coffer.ReasonConstraint, "deletion_delay_days must be from 1 to 90, or 0 for the default")
		}
		u.DeletionDelay = new(time.Duration(*d) * 24 * time.Hour)
	}
	p, err := pc.ChangeProjectSettings(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProject(p))
	return nil
}
