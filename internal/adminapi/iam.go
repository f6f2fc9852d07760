package adminapi

import (
	"net/http"
	"runtime/debug"
	"time"

	"github.com/coffer-dev/coffer"
)

// System describes the running server for GET /system.
type System struct {
	Version string `json:"version"`
	// Store is "sqlite" or "postgres".
	Store string `json:"store"`
}

// WithSystem sets what GET /system reports and returns h. The version
// defaults to the build's module version.
func (h *Handler) WithSystem(s System) *Handler {
	if s.Version == "" {
		s.Version = buildVersion()
	}
	h.system = s
	return h
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// registerIAM mounts the routes of organizations, projects, principals,
// API keys, policies, the system description and the OpenAPI document.
func (h *Handler) registerIAM(mux *http.ServeMux) {
	h.registerOrganizations(mux)
	mux.Handle("GET /system", h.wrap(h.getSystem))
	mux.Handle("GET /openapi.json", h.wrap(h.getOpenAPI))
	mux.Handle("GET /projects", h.wrap(h.listProjects))
	mux.Handle("POST /projects", h.wrap(h.createProject))
	h.registerProjectSettings(mux)
	mux.Handle("GET /principals", h.wrap(h.listPrincipals))
	mux.Handle("POST /principals", h.wrap(h.createPrincipal))
	mux.Handle("GET /principals/{id}", h.wrap(h.getPrincipal))
	mux.Handle("DELETE /principals/{id}", h.wrap(h.deletePrincipal))
	mux.Handle("GET /api-keys", h.wrap(h.listAPIKeys))
	mux.Handle("POST /api-keys", h.wrap(h.createAPIKey))
	mux.Handle("PATCH /api-keys/{access_key}", h.wrap(h.updateAPIKey))
	mux.Handle("DELETE /api-keys/{access_key}", h.wrap(h.deleteAPIKey))
	mux.Handle("GET /policies", h.wrap(h.listPolicies))
	mux.Handle("POST /policies", h.wrap(h.createPolicy))
	mux.Handle("DELETE /policies/{id}", h.wrap(h.deletePolicy))
}

func (h *Handler) getSystem(w http.ResponseWriter, _ *http.Request) error {
	s := h.system
	if s.Version == "" {
		s.Version = buildVersion()
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// ProjectJSON is a project on the wire.
type ProjectJSON struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
	// DeletionDelayDays is how long a secret scheduled for deletion waits
	// before it is destroyed.
	DeletionDelayDays int `json:"deletion_delay_days"`
}

// CreateProjectRequest asks for a project.
type CreateProjectRequest struct {
	Name string `json:"name"`
}

func toProject(p *coffer.Project) ProjectJSON {
	return ProjectJSON{ID: p.ID, OrganizationID: p.OrganizationID, Name: p.Name, CreatedAt: p.CreatedAt,
		DeletionDelayDays: int(p.Settings.SecretDeletionDelay() / (24 * time.Hour))}
}

func (h *Handler) listProjects(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.ListProjects(r.Context())
	if err != nil {
		return err
	}
	out := make([]ProjectJSON, len(ps))
	for i, p := range ps {
		out[i] = toProject(p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": out})
	return nil
}

func (h *Handler) createProject(w http.ResponseWriter, r *http.Request) error {
	var req CreateProjectRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	p, err := h.svc.CreateProject(r.Context(), req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toProject(p))
	return nil
}

// PrincipalJSON is a principal on the wire.
type PrincipalJSON struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Kind           string    `json:"kind"`
	Name           string    `json:"name"`
	Admin          bool      `json:"admin"`
	CreatedAt      time.Time `json:"created_at"`
}

// CreatePrincipalRequest asks for a principal; only an admin may ask for
// an admin principal.
type CreatePrincipalRequest struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Admin bool   `json:"admin"`
}

func toPrincipal(p *coffer.Principal) PrincipalJSON {
	return PrincipalJSON{ID: p.ID, OrganizationID: p.OrganizationID, Kind: string(p.Kind), Name: p.Name, Admin: p.Admin, CreatedAt: p.CreatedAt}
}

func (h *Handler) listPrincipals(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.ListPrincipals(r.Context())
	if err != nil {
		return err
	}
	out := make([]PrincipalJSON, len(ps))
	for i, p := range ps {
		out[i] = toPrincipal(p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"principals": out})
	return nil
}

func (h *Handler) createPrincipal(w http.ResponseWriter, r *http.Request) error {
	var req CreatePrincipalRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	p, err := h.svc.CreatePrincipal(r.Context(), coffer.PrincipalCreate{Kind: coffer.PrincipalKind(req.Kind), Name: req.Name, Admin: req.Admin})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPrincipal(p))
	return nil
}

func (h *Handler) getPrincipal(w http.ResponseWriter, r *http.Request) error {
	p, err := h.svc.GetPrincipal(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPrincipal(p))
	return nil
}

func (h *Handler) deletePrincipal(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeletePrincipal(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// APIKeyJSON is an API key on the wire; SecretKey is set only in the answer
// that creates it.
type APIKeyJSON struct {
	AccessKey        string     `json:"access_key"`
	SecretKey        string     `json:"secret_key,omitempty"`
	PrincipalID      string     `json:"principal_id"`
	OrganizationID   string     `json:"organization_id"`
	DefaultProjectID string     `json:"default_project_id"`
	Description      string     `json:"description"`
	Disabled         bool       `json:"disabled"`
	ExpiresAt        *time.Time `json:"expires_at"`
	CreatedAt        time.Time  `json:"created_at"`
}

// CreateAPIKeyRequest asks for an API key.
type CreateAPIKeyRequest struct {
	PrincipalID      string     `json:"principal_id"`
	DefaultProjectID string     `json:"default_project_id"`
	Description      string     `json:"description"`
	ExpiresAt        *time.Time `json:"expires_at"`
}

// UpdateAPIKeyRequest disables or enables an API key.
type UpdateAPIKeyRequest struct {
	Disabled *bool `json:"disabled"`
}

func toAPIKey(k *coffer.APIKey) APIKeyJSON {
	return APIKeyJSON{
		AccessKey: k.AccessKey, PrincipalID: k.PrincipalID, OrganizationID: k.OrganizationID,
		DefaultProjectID: k.DefaultProjectID, Description: k.Description, Disabled: k.Disabled,
		ExpiresAt: k.ExpiresAt, CreatedAt: k.CreatedAt,
	}
}

func (h *Handler) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := h.svc.ListAPIKeys(r.Context(), r.URL.Query().Get("principal_id"))
	if err != nil {
		return err
	}
	out := make([]APIKeyJSON, len(ks))
	for i, k := range ks {
		out[i] = toAPIKey(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": out})
	return nil
}

func (h *Handler) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req CreateAPIKeyRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	k, err := h.svc.CreateAPIKey(r.Context(), coffer.APIKeyCreate{
		PrincipalID: req.PrincipalID, DefaultProjectID: req.DefaultProjectID,
		Description: req.Description, ExpiresAt: req.ExpiresAt,
	})
	if err != nil {
		return err
	}
	out := toAPIKey(&k.APIKey)
	out.SecretKey = k.SecretKey
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *Handler) updateAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req UpdateAPIKeyRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	if req.Disabled == nil {
		return coffer.Invalid("disabled", coffer.ReasonRequired, "disabled is required")
	}
	k, err := h.svc.SetAPIKeyDisabled(r.Context(), r.PathValue("access_key"), *req.Disabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAPIKey(k))
	return nil
}

func (h *Handler) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteAPIKey(r.Context(), r.PathValue("access_key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PolicyJSON is a policy on the wire. An empty project_id means every
// project of the organization.
type PolicyJSON struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	PrincipalID    string    `json:"principal_id"`
	ProjectID      string    `json:"project_id"`
	PathPrefix     string    `json:"path_prefix"`
	PermissionSets []string  `json:"permission_sets"`
	CreatedAt      time.Time `json:"created_at"`
}

// CreatePolicyRequest asks for a policy.
type CreatePolicyRequest struct {
	PrincipalID    string   `json:"principal_id"`
	ProjectID      string   `json:"project_id"`
	PathPrefix     string   `json:"path_prefix"`
	PermissionSets []string `json:"permission_sets"`
}

func toPolicy(p *coffer.Policy) PolicyJSON {
	sets := make([]string, len(p.PermissionSets))
	for i, s := range p.PermissionSets {
		sets[i] = string(s)
	}
	return PolicyJSON{ID: p.ID, OrganizationID: p.OrganizationID, PrincipalID: p.PrincipalID, ProjectID: p.ProjectID,
		PathPrefix: p.PathPrefix, PermissionSets: sets, CreatedAt: p.CreatedAt}
}

func (h *Handler) listPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.ListPolicies(r.Context(), r.URL.Query().Get("principal_id"))
	if err != nil {
		return err
	}
	out := make([]PolicyJSON, len(ps))
	for i, p := range ps {
		out[i] = toPolicy(p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"policies": out})
	return nil
}

func (h *Handler) createPolicy(w http.ResponseWriter, r *http.Request) error {
	var req CreatePolicyRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	sets := make([]coffer.PermissionSet, len(req.PermissionSets))
	for i, s := range req.PermissionSets {
		sets[i] = coffer.PermissionSet(s)
	}
	p, err := h.svc.CreatePolicy(r.Context(), coffer.PolicyCreate{
		PrincipalID: req.PrincipalID, ProjectID: req.ProjectID, PathPrefix: req.PathPrefix, PermissionSets: sets,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPolicy(p))
	return nil
}

func (h *Handler) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeletePolicy(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
