package imco

import (
	"net/http"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) listSecrets(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.ListVaultSecrets(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]secretJSON, len(list))
	for i, s := range list {
		out[i] = toSecret(s)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createSecret(w http.ResponseWriter, r *http.Request) error {
	var req secretRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	in := coffer.VaultSecretCreate{Name: str(req.Name), DesiredRemoteID: str(req.DesiredRemoteID)}
	if req.Content != nil {
		in.Content = coffer.Payload(*req.Content)
		defer in.Content.Wipe()
	}
	if req.LabelIDs != nil {
		in.LabelIDs = *req.LabelIDs
	}
	s, err := h.svc.CreateVaultSecret(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toSecret(s))
	return nil
}

func (h *Handler) getSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.GetVaultSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s))
	return nil
}

// updateSecret changes a secret's name or labels. A content is refused:
// new content is a new version (POST .../versions).
func (h *Handler) updateSecret(w http.ResponseWriter, r *http.Request) error {
	var req secretRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Content != nil {
		clear([]byte(*req.Content))
		return coffer.Invalid("content", coffer.ReasonConstraint, "content cannot be changed here: create a secret version")
	}
	if req.DesiredRemoteID != nil {
		return coffer.Invalid("desired_remote_id", coffer.ReasonConstraint, "desired_remote_id is set when the secret is created")
	}
	s, err := h.svc.UpdateVaultSecret(r.Context(), r.PathValue("id"), coffer.VaultSecretUpdate{Name: req.Name, LabelIDs: req.LabelIDs})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s))
	return nil
}

func (h *Handler) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.DeleteVaultSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s))
	return nil
}

func (h *Handler) retrySecret(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.RetryVaultSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s))
	return nil
}

func (h *Handler) discardSecret(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DiscardVaultSecret(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listVersions(w http.ResponseWriter, r *http.Request) error {
	s, list, err := h.svc.ListVaultVersions(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]versionJSON, len(list))
	for i, v := range list {
		out[i] = toVersion(s, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createVersion(w http.ResponseWriter, r *http.Request) error {
	var req versionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	var content coffer.Payload
	if req.Content != nil {
		content = coffer.Payload(*req.Content)
		defer content.Wipe()
	}
	s, v, err := h.svc.CreateVaultVersion(r.Context(), r.PathValue("id"), content)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toVersion(s, v))
	return nil
}

// retrieveVersion serves the agent route: a version's raw content, as the
// body, to a caller with the right to read values.
func (h *Handler) retrieveVersion(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	secretID, rev, ok := parseVersionID(id)
	if !ok {
		return coffer.NotFound("secret_version", id)
	}
	_, _, data, err := h.svc.AccessVersion(r.Context(), secretID, coffer.Revision{Number: rev})
	if err != nil {
		return err
	}
	defer data.Wipe()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}

func (h *Handler) listLabels(w http.ResponseWriter, r *http.Request) error {
	ls, err := h.svc.ListLabels(r.Context())
	if err != nil {
		return err
	}
	out := make([]labelJSON, len(ls))
	for i, l := range ls {
		out[i] = toLabel(l)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createLabel(w http.ResponseWriter, r *http.Request) error {
	var req labelRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	l, err := h.svc.CreateLabel(r.Context(), str(req.Name))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toLabel(l))
	return nil
}

// labelResources attaches a label to key vaults and secrets and answers
// the labelled resources.
func (h *Handler) labelResources(w http.ResponseWriter, r *http.Request) error {
	var req labelResourcesRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	in := make([]coffer.LabelResource, len(req.Resources))
	for i, x := range req.Resources {
		in[i] = coffer.LabelResource{ID: x.ID, ResourceType: x.ResourceType}
	}
	rs, err := h.svc.LabelResources(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	out := make([]resourceJSON, len(rs))
	for i, x := range rs {
		out[i] = resourceJSON{ID: x.ID, ResourceType: x.ResourceType}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) unlabelResource(w http.ResponseWriter, r *http.Request) error {
	err := h.svc.UnlabelResource(r.Context(), r.PathValue("id"),
		coffer.LabelResource{ID: r.PathValue("rid"), ResourceType: r.PathValue("type")})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
