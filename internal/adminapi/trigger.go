package adminapi

import (
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
)

// registerTriggers mounts the routes of rotation triggers: webhooks that a
// rotation job fires. Creating and deleting one needs RotationManager on
// its project (or an admin key).
func (h *Handler) registerTriggers(mux *http.ServeMux) {
	mux.Handle("GET /triggers", h.wrap(h.listTriggers))
	mux.Handle("POST /triggers", h.wrap(h.createTrigger))
	mux.Handle("GET /triggers/{id}", h.wrap(h.getTrigger))
	mux.Handle("DELETE /triggers/{id}", h.wrap(h.deleteTrigger))
}

// TriggerJSON is a trigger on the wire, never with its signing secret.
type TriggerJSON struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
	// Secrets are the ids of the secrets linked to the trigger.
	Secrets []string `json:"secrets"`
}

// CreateTriggerRequest asks for a trigger.
type CreateTriggerRequest struct {
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
}

// CreateTriggerResponse is a new trigger with its signing secret, shown
// this once.
type CreateTriggerResponse struct {
	Trigger       TriggerJSON `json:"trigger"`
	SigningSecret string      `json:"signing_secret"`
}

func toTrigger(t *coffer.Trigger) TriggerJSON {
	s := t.Secrets
	if s == nil {
		s = []string{}
	}
	return TriggerJSON{ID: t.ID, ProjectID: t.ProjectID, Name: t.Name, URL: t.URL, CreatedAt: t.CreatedAt, Secrets: s}
}

func (h *Handler) listTriggers(w http.ResponseWriter, r *http.Request) error {
	trs, err := h.svc.ListTriggers(r.Context(), r.URL.Query().Get("project_id"))
	if err != nil {
		return err
	}
	out := make([]TriggerJSON, len(trs))
	for i, t := range trs {
		out[i] = toTrigger(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"triggers": out})
	return nil
}

func (h *Handler) getTrigger(w http.ResponseWriter, r *http.Request) error {
	t, err := h.svc.GetTrigger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTrigger(t))
	return nil
}

func (h *Handler) createTrigger(w http.ResponseWriter, r *http.Request) error {
	var req CreateTriggerRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	t, err := h.svc.CreateTrigger(r.Context(), coffer.TriggerCreate{ProjectID: req.ProjectID, Name: req.Name, URL: req.URL})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreateTriggerResponse{Trigger: toTrigger(t.Trigger), SigningSecret: t.SigningSecret})
	return nil
}

func (h *Handler) deleteTrigger(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteTrigger(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
