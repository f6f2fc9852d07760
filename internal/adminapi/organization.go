package adminapi

import (
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
)

// registerOrganizations mounts the routes of organizations. Operators (the
// admins of the system organization) list and create them; any other IAM
// manager sees only its own.
func (h *Handler) registerOrganizations(mux *http.ServeMux) {
	mux.Handle("GET /organizations", h.wrap(h.listOrganizations))
	mux.Handle("POST /organizations", h.wrap(h.createOrganization))
	mux.Handle("GET /organizations/{id}", h.wrap(h.getOrganization))
}

// OrganizationJSON is an organization on the wire.
type OrganizationJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateOrganizationRequest asks for an organization.
type CreateOrganizationRequest struct {
	Name string `json:"name"`
}

// CreateOrganizationResponse is a new organization with its project
// "default" and the API key of its admin principal, whose secret key is
// shown this once.
type CreateOrganizationResponse struct {
	Organization     OrganizationJSON `json:"organization"`
	ProjectID        string           `json:"project_id"`
	AdminPrincipalID string           `json:"admin_principal_id"`
	AccessKey        string           `json:"access_key"`
	SecretKey        string           `json:"secret_key"`
}

func toOrganization(o *coffer.Organization) OrganizationJSON {
	return OrganizationJSON{ID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt}
}

func (h *Handler) listOrganizations(w http.ResponseWriter, r *http.Request) error {
	orgs, err := h.svc.ListOrganizations(r.Context())
	if err != nil {
		return err
	}
	out := make([]OrganizationJSON, len(orgs))
	for i, o := range orgs {
		out[i] = toOrganization(o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": out})
	return nil
}

func (h *Handler) getOrganization(w http.ResponseWriter, r *http.Request) error {
	o, err := h.svc.GetOrganization(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrganization(o))
	return nil
}

func (h *Handler) createOrganization(w http.ResponseWriter, r *http.Request) error {
	var req CreateOrganizationRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	o, err := h.svc.CreateOrganization(r.Context(), req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreateOrganizationResponse{
		Organization: toOrganization(o.Organization), ProjectID: o.ProjectID,
		AdminPrincipalID: o.AdminPrincipalID, AccessKey: o.AccessKey, SecretKey: o.SecretKey,
	})
	return nil
}
