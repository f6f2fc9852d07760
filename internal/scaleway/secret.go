package scaleway

import (
	"net/http"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) createSecret(w http.ResponseWriter, r *http.Request) error {
	var req createSecretRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	in, err := req.secretCreate()
	if err != nil {
		return err
	}
	s, err := h.svc.CreateSecret(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s, region(r)))
	return nil
}

func (h *Handler) getSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.GetSecret(r.Context(), r.PathValue("secret_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s, region(r)))
	return nil
}

func (h *Handler) updateSecret(w http.ResponseWriter, r *http.Request) error {
	var req updateSecretRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, err := req.secretUpdate()
	if err != nil {
		return err
	}
	s, err := h.svc.UpdateSecret(r.Context(), r.PathValue("secret_id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s, region(r)))
	return nil
}

func (h *Handler) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteSecret(r.Context(), r.PathValue("secret_id")); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

func (h *Handler) listSecrets(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := coffer.SecretFilter{
		ProjectID:      q.str("project_id"),
		OrganizationID: q.str("organization_id"),
		Name:           q.str("name"),
		Path:           q.str("path"),
		Tags:           q.list("tags"),
		Order:          coffer.SecretOrder(q.str("order_by")),
		Ephemeral:      q.boolean("ephemeral"),
	}
	if b := q.boolean("scheduled_for_deletion"); b != nil {
		f.ScheduledForDeletion = *b
	}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	var err error
	if f.Type, err = secretType("type", q.str("type")); err != nil {
		return err
	}
	secrets, total, err := h.svc.ListSecrets(r.Context(), f)
	if err != nil {
		return err
	}
	out := listSecretsJSON{Secrets: make([]secretJSON, len(secrets)), TotalCount: total}
	for i, s := range secrets {
		out.Secrets[i] = toSecret(s, region(r))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) browseSecrets(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := coffer.BrowseFilter{
		ProjectID: q.str("project_id"),
		Prefix:    q.str("prefix"),
		Tags:      q.list("tags"),
		Order:     coffer.SecretOrder(q.str("order_by")),
	}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	var err error
	if f.Type, err = secretType("type", q.str("type")); err != nil {
		return err
	}
	items, total, err := h.svc.BrowseSecrets(r.Context(), f)
	if err != nil {
		return err
	}
	current := f.Prefix
	if current == "" {
		current = "/"
	} else if len(current) > 1 && current[len(current)-1] == '/' {
		current = current[:len(current)-1]
	}
	out := browseJSON{Items: make([]browseItemJSON, len(items)), CurrentPath: current, TotalCount: total}
	for i, it := range items {
		bi := browseItemJSON{Name: it.Name, CreatedAt: tsp(it.CreatedAt), UpdatedAt: tsp(it.UpdatedAt)}
		if s := it.Secret; s != nil {
			bi.Secret = &browseSecretJSON{ID: s.ID, Tags: nonNil(s.Tags), VersionCount: s.VersionCount,
				Protected: s.Protected, EphemeralPolicy: toPolicy(s.Ephemeral), Type: s.Type}
		} else {
			bi.Folder = &struct{}{}
		}
		out.Items[i] = bi
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) protectSecret(w http.ResponseWriter, r *http.Request) error {
	return h.setProtected(w, r, true)
}

func (h *Handler) unprotectSecret(w http.ResponseWriter, r *http.Request) error {
	return h.setProtected(w, r, false)
}

func (h *Handler) setProtected(w http.ResponseWriter, r *http.Request, protected bool) error {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return err
	}
	s, err := h.svc.SetProtected(r.Context(), r.PathValue("secret_id"), protected)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s, region(r)))
	return nil
}

func (h *Handler) addSecretOwner(w http.ResponseWriter, r *http.Request) error {
	var req addOwnerRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	switch req.Product {
	case "", "unknown_product":
		return coffer.Invalid("product", coffer.ReasonRequired, "product is required: edge_services or s2s_vpn")
	case "edge_services", "s2s_vpn":
	default:
		return coffer.Invalid("product", coffer.ReasonConstraint, "product must be edge_services or s2s_vpn")
	}
	if err := h.svc.AddSecretOwner(r.Context(), r.PathValue("secret_id"), req.Product); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

func (h *Handler) restoreSecret(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return err
	}
	s, err := h.svc.RestoreSecret(r.Context(), r.PathValue("secret_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s, region(r)))
	return nil
}

func (h *Handler) listTags(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	offset, limit := q.page()
	if q.err != nil {
		return q.err
	}
	tags, total, err := h.svc.ListTags(r.Context(), defaultProject(r.Context(), q.str("project_id")), offset, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listTagsJSON{Tags: tags, TotalCount: total})
	return nil
}

func (h *Handler) listSecretTypes(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	offset, limit := q.page()
	if q.err != nil {
		return q.err
	}
	types, total, err := h.svc.ListSecretTypes(r.Context(), defaultProject(r.Context(), q.str("project_id")), offset, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listTypesJSON{Types: types, TotalCount: total})
	return nil
}
