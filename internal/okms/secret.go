package okms

import (
	"net/http"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) listSecrets(w http.ResponseWriter, r *http.Request) error {
	offset, limit, err := page(r)
	if err != nil {
		return err
	}
	secrets, total, err := h.svc.ListSecrets(r.Context(), coffer.SecretFilter{ProjectID: okmsID(r), Offset: offset, Limit: limit})
	if err != nil {
		return err
	}
	out := make([]secretJSON, len(secrets))
	for i, s := range secrets {
		out[i] = toSecret(s)
	}
	setNext(w, offset, len(secrets), total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createSecret creates a secret with its first version; a secret that
// exists at the path is a conflict. The secret's type is left to the
// engine, which infers it from the data as it does for Vault writes.
func (h *Handler) createSecret(w http.ResponseWriter, r *http.Request) error {
	var req createSecretRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Path == nil {
		return coffer.Invalid("path", coffer.ReasonRequired, "path is required")
	}
	if err := checkPath("path", *req.Path); err != nil {
		return err
	}
	if req.Version == nil {
		return coffer.Invalid("version", coffer.ReasonRequired, `version is required: {"data": {...}}`)
	}
	data, err := secretData("version.data", req.Version.Data)
	defer data.Wipe()
	if err != nil {
		return err
	}
	st, err := req.Metadata.settings()
	if err != nil {
		return err
	}
	folder, name := coffer.SplitFullPath(*req.Path)
	in := coffer.SecretCreate{ProjectID: okmsID(r), Path: folder, Name: name}
	if st.casRequired != nil {
		in.CASRequired = *st.casRequired
	}
	if st.customMetadata != nil {
		in.CustomMetadata = *st.customMetadata
	}
	if st.maxVersions != nil {
		in.MaxVersions = *st.maxVersions
	}
	if st.versionTTL != nil {
		in.VersionTTL = *st.versionTTL
	}
	s, _, err := h.svc.CreateSecretWithVersion(r.Context(), in, coffer.VersionCreate{Data: data, JSONObject: true})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s))
	return nil
}

// getSecret returns a secret's metadata and one version: the one asked
// for, else the current one.
func (h *Handler) getSecret(w http.ResponseWriter, r *http.Request, t target) error {
	q := newQuery(r)
	rev := q.uint32("version", 1)
	include := q.boolean("includeData", false)
	if q.err != nil {
		return q.err
	}
	var n uint32 // the current version
	if rev != nil {
		n = *rev
	}
	rd, err := h.readVersion(r, t, n, include)
	if err != nil {
		return err
	}
	defer rd.Data.Wipe()
	out := toSecret(rd.Secret)
	if rd.Version != nil {
		v := toReadVersion(rd)
		out.Version = &v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// updateSecret changes a secret's metadata and, when the body holds a
// version, writes it. The metadata is changed first, so that a request
// that lifts casRequired writes without cas, as OKMS does.
func (h *Handler) updateSecret(w http.ResponseWriter, r *http.Request, t target) error {
	q := newQuery(r)
	cas := q.uint32("cas", 0)
	if q.err != nil {
		return q.err
	}
	var req updateSecretRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	st, err := req.Metadata.settings()
	if err != nil {
		return err
	}
	var data coffer.Payload
	if req.Version != nil {
		data, err = secretData("version.data", req.Version.Data)
		defer data.Wipe()
		if err != nil {
			return err
		}
	}
	s, err := h.lookup(r, t)
	if err != nil {
		return err
	}
	if !st.empty() {
		if s, err = h.svc.UpdateSecret(r.Context(), s.ID, st.secretUpdate()); err != nil {
			return err
		}
	}
	if req.Version != nil {
		if s, _, err = h.svc.CreateVersion(r.Context(), s.ID, coffer.VersionCreate{Data: data, CAS: cas, JSONObject: true}); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, toSecret(s))
	return nil
}

// deleteSecret removes a secret and all its versions at once.
func (h *Handler) deleteSecret(w http.ResponseWriter, r *http.Request, t target) error {
	s, err := h.lookup(r, t)
	if err != nil {
		return err
	}
	if err := h.svc.PurgeSecret(r.Context(), s.ID); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// lookup returns the secret a URL names.
func (h *Handler) lookup(r *http.Request, t target) (*coffer.Secret, error) {
	folder, name := t.folderAndName()
	// Every use is followed by an operation by id that checks its own
	// right, but for the metadata of getSecret without data.
	return h.svc.LocateSecret(r.Context(), okmsID(r), folder, name)
}
