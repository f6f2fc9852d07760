package console

import (
	"net/http"
	"net/url"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) registerKeyVaults(mux *http.ServeMux) {
	mux.Handle("GET /keyvaults", h.page(h.keyVaults))
	mux.Handle("GET /keyvaults/{vault}", h.page(h.vaultSecrets))
	mux.Handle("POST /keyvaults/{vault}/secrets/{secret}/retry", h.action(h.retryVaultSecret))
}

func (h *Handler) keyVaults(w http.ResponseWriter, r *http.Request) error {
	kvs, err := h.svc.ListKeyVaults(r.Context())
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "keyvaults", &view{Title: "Key vaults", Data: kvs})
	return nil
}

// vaultSecrets shows the sync state of a key vault's secrets, with the
// last error of each and a retry for those that wait for one.
func (h *Handler) vaultSecrets(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("vault")
	ss, err := h.svc.ListVaultSecrets(r.Context(), id)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "vaultsecrets", &view{Title: "Key vault", Data: struct {
		VaultID string
		Secrets []*coffer.VaultSecret
	}{id, ss}})
	return nil
}

func (h *Handler) retryVaultSecret(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.svc.RetryVaultSecret(r.Context(), r.PathValue("secret")); err != nil {
		return err
	}
	redirect(w, "/keyvaults/"+url.PathEscape(r.PathValue("vault")))
	return nil
}
