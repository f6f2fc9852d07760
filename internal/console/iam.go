package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) registerIAM(mux *http.ServeMux) {
	mux.Handle("GET /iam/principals", h.page(h.principals))
	mux.Handle("POST /iam/principals", h.action(h.createPrincipal))
	mux.Handle("POST /iam/principals/{principal}/delete", h.action(h.deletePrincipal))
	mux.Handle("GET /iam/principals/{principal}/keys", h.page(h.keys))
	mux.Handle("POST /iam/principals/{principal}/keys", h.action(h.createKey))
	mux.Handle("POST /iam/keys/{key}/disable", h.action(h.setKeyDisabled(true)))
	mux.Handle("POST /iam/keys/{key}/enable", h.action(h.setKeyDisabled(false)))
	mux.Handle("POST /iam/keys/{key}/delete", h.action(h.deleteKey))
	mux.Handle("GET /iam/principals/{principal}/policies", h.page(h.policies))
	mux.Handle("POST /iam/principals/{principal}/policies", h.action(h.createPolicy))
	mux.Handle("POST /iam/policies/{policy}/delete", h.action(h.deletePolicy))
}

func (h *Handler) principals(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.ListPrincipals(r.Context())
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "principals", &view{Title: "Principals", Data: ps})
	return nil
}

func (h *Handler) createPrincipal(w http.ResponseWriter, r *http.Request) error {
	_, err := h.svc.CreatePrincipal(r.Context(), coffer.PrincipalCreate{
		Kind: coffer.PrincipalKind(r.PostFormValue("kind")), Name: r.PostFormValue("name"), Admin: r.PostFormValue("admin") == "1"})
	if err != nil {
		return err
	}
	redirect(w, "/iam/principals")
	return nil
}

func (h *Handler) deletePrincipal(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeletePrincipal(r.Context(), r.PathValue("principal")); err != nil {
		return err
	}
	redirect(w, "/iam/principals")
	return nil
}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("principal")
	ks, err := h.svc.ListAPIKeys(r.Context(), id)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "keys", &view{Title: "API keys", Data: struct {
		PrincipalID string
		Keys        []*coffer.APIKey
	}{id, ks}})
	return nil
}

// createKey creates an API key and shows its secret key once: the page
// is the answer to the post, never cached, and the secret is not kept.
func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) error {
	in := coffer.APIKeyCreate{PrincipalID: r.PathValue("principal"), DefaultProjectID: strings.TrimSpace(r.PostFormValue("project")),
		Description: r.PostFormValue("description")}
	if s := strings.TrimSpace(r.PostFormValue("expires")); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return coffer.Invalid("expires", coffer.ReasonFormat, "The lifetime must be a duration such as 720h.")
		}
		at := time.Now().Add(d).UTC()
		in.ExpiresAt = &at
	}
	k, err := h.svc.CreateAPIKey(r.Context(), in)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusCreated, "newkey", &view{Title: "New API key", Data: k})
	return nil
}

func (h *Handler) setKeyDisabled(disabled bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		k, err := h.svc.SetAPIKeyDisabled(r.Context(), r.PathValue("key"), disabled)
		if err != nil {
			return err
		}
		redirect(w, "/iam/principals/"+url.PathEscape(k.PrincipalID)+"/keys")
		return nil
	}
}

func (h *Handler) deleteKey(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteAPIKey(r.Context(), r.PathValue("key")); err != nil {
		return err
	}
	to := r.PostFormValue("principal")
	if to == "" {
		redirect(w, "/iam/principals")
		return nil
	}
	redirect(w, "/iam/principals/"+url.PathEscape(to)+"/keys")
	return nil
}

func (h *Handler) policies(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("principal")
	ps, err := h.svc.ListPolicies(r.Context(), id)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "policies", &view{Title: "Policies", Data: struct {
		PrincipalID string
		Policies    []*coffer.Policy
		Sets        []coffer.PermissionSet
	}{id, ps, coffer.PermissionSets}})
	return nil
}

func (h *Handler) createPolicy(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("principal")
	var sets []coffer.PermissionSet
	for _, s := range r.PostForm["sets"] {
		sets = append(sets, coffer.PermissionSet(s))
	}
	_, err := h.svc.CreatePolicy(r.Context(), coffer.PolicyCreate{PrincipalID: id, ProjectID: strings.TrimSpace(r.PostFormValue("project")),
		PathPrefix: strings.TrimSpace(r.PostFormValue("path")), PermissionSets: sets})
	if err != nil {
		return err
	}
	redirect(w, "/iam/principals/"+url.PathEscape(id)+"/policies")
	return nil
}

func (h *Handler) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeletePolicy(r.Context(), r.PathValue("policy")); err != nil {
		return err
	}
	to := r.PostFormValue("principal")
	if to == "" {
		redirect(w, "/iam/principals")
		return nil
	}
	redirect(w, "/iam/principals/"+url.PathEscape(to)+"/policies")
	return nil
}
