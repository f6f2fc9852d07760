package imco

import (
	"net/http"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) listKeyVaults(w http.ResponseWriter, r *http.Request) error {
	kvs, err := h.svc.ListKeyVaults(r.Context())
	if err != nil {
		return err
	}
	out := make([]keyVaultJSON, len(kvs))
	for i, kv := range kvs {
		out[i] = toKeyVault(kv)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createKeyVault(w http.ResponseWriter, r *http.Request) error {
	var req keyVaultRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	in := coffer.KeyVaultCreate{
		ProjectID: str(req.ProjectID), Name: str(req.Name), Path: str(req.Path),
		Target: coffer.Target{
			Kind: coffer.TargetKind(str(req.TargetKind)), Address: str(req.TargetAddress), Mount: str(req.TargetMount),
			Namespace: str(req.TargetNamespace), Project: str(req.TargetProject), Region: str(req.TargetRegion),
			OKMSID: str(req.TargetOKMSID), AccessKey: str(req.TargetAccessKey), CACertificate: str(req.TargetCA),
		},
	}
	if req.TargetCredential != nil {
		in.Target.Credential = coffer.Payload(*req.TargetCredential)
	}
	if req.LabelIDs != nil {
		in.LabelIDs = *req.LabelIDs
	}
	kv, err := h.svc.CreateKeyVault(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toKeyVault(kv))
	return nil
}

func (h *Handler) getKeyVault(w http.ResponseWriter, r *http.Request) error {
	kv, err := h.svc.GetKeyVault(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toKeyVault(kv))
	return nil
}

func (h *Handler) updateKeyVault(w http.ResponseWriter, r *http.Request) error {
	var req keyVaultRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	// Which secret manager a vault deploys to is set when it is created
	// (its secrets' remote ids belong to it); how it is reached may change.
	// A silently ignored field would look like a change that did not
	// happen: each is refused by name.
	for field, set := range map[string]bool{
		"target_kind": req.TargetKind != nil, "target_mount": req.TargetMount != nil,
		"target_namespace": req.TargetNamespace != nil, "target_project": req.TargetProject != nil,
		"target_region": req.TargetRegion != nil, "target_okms_id": req.TargetOKMSID != nil,
		"path": req.Path != nil, "project_id": req.ProjectID != nil,
	} {
		if set {
			return coffer.Invalid(field, coffer.ReasonConstraint, field+" is set when the key vault is created")
		}
	}
	u := coffer.KeyVaultUpdate{Name: req.Name, LabelIDs: req.LabelIDs, TargetAddress: req.TargetAddress,
		TargetCACertificate: req.TargetCA, TargetAccessKey: req.TargetAccessKey}
	if req.TargetCredential != nil {
		u.TargetCredential = coffer.Payload(*req.TargetCredential)
		defer clear(u.TargetCredential)
	}
	kv, err := h.svc.UpdateKeyVault(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toKeyVault(kv))
	return nil
}

func (h *Handler) deleteKeyVault(w http.ResponseWriter, r *http.Request) error {
	kv, err := h.svc.DeleteKeyVault(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toKeyVault(kv))
	return nil
}

// importKeyVault imports the target's secrets (brownfield) and answers the
// key vault, as IMCO's brownfield imports answer the cloud account.
func (h *Handler) importKeyVault(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := h.svc.ImportKeyVault(r.Context(), id); err != nil {
		return err
	}
	return h.getKeyVault(w, r)
}
