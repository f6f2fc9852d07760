package console

import "net/http"

// projects lists the caller's projects: the console's home.
func (h *Handler) projects(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.ListProjects(r.Context())
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "projects", &view{Title: "Projects", Data: ps})
	return nil
}
