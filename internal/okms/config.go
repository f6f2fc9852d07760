package okms

import "net/http"

// getConfig returns the domain's defaults: the project's settings, which
// the Vault dialect shows as its mount config.
func (h *Handler) getConfig(w http.ResponseWriter, r *http.Request) error {
	p, err := h.svc.GetProject(r.Context(), okmsID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConfig(p.Settings))
	return nil
}

// updateConfig changes the defaults given in the body and leaves the others.
func (h *Handler) updateConfig(w http.ResponseWriter, r *http.Request) error {
	var req configInput
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	st, err := req.settings()
	if err != nil {
		return err
	}
	p, err := h.svc.ChangeProjectSettings(r.Context(), okmsID(r), st.projectUpdate())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConfig(p.Settings))
	return nil
}
