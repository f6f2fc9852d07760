package ncloud

import (
	"net/http"

	"github.com/coffer-dev/coffer"
)

// headerJobToken carries the token of a job that Execute or Retry Rotation
// opened on a secret that links no trigger: coffer's extension for a
// caller that drives the job itself. When the secret links a trigger, the
// token goes to the trigger only and the header is absent (README.md).
const headerJobToken = "X-Coffer-Job-Token"

// executeRotation serves POST /secrets/{id}/rotation.
func (h *Handler) executeRotation(w http.ResponseWriter, r *http.Request) error {
	t, err := h.svc.ExecuteRotation(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if t.Token != "" {
		w.Header().Set(headerJobToken, t.Token)
	}
	return writeData(w, nil)
}

// retryRotation serves POST /secrets/{id}/retry-rotation.
func (h *Handler) retryRotation(w http.ResponseWriter, r *http.Request) error {
	t, err := h.svc.RetryRotation(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if t.Token != "" {
		w.Header().Set(headerJobToken, t.Token)
	}
	return writeData(w, nil)
}

// cancelRotation serves POST /secrets/{id}/cancel-rotation.
func (h *Handler) cancelRotation(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.CancelRotation(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return writeData(w, nil)
}

// rollbackRotation serves POST /secrets/{id}/rollback-rotation.
func (h *Handler) rollbackRotation(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.svc.RollbackRotation(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return writeData(w, nil)
}

// startJob serves POST /secrets/{id}/jobs/{job}/start.
func (h *Handler) startJob(w http.ResponseWriter, r *http.Request) error {
	s, chain, err := h.svc.StartRotationJob(r.Context(), r.PathValue("id"), r.PathValue("job"))
	if err != nil {
		return err
	}
	defer chain.Wipe()
	targets := []string{}
	if s.Rotation != nil && s.Rotation.Targets != nil {
		targets = s.Rotation.Targets
	}
	return writeData(w, struct {
		DecryptedSecretChain chainJSON `json:"decryptedSecretChain"`
		RotationTargets      []string  `json:"rotationTargets"`
	}{chainJSON{strOrNil(chain.Previous), strOrNil(chain.Active), strOrNil(chain.Pending)}, targets})
}

// pendingData is the data of the pending stage operations.
type pendingData struct {
	Pending string `json:"pending"`
}

// addPending serves POST /secrets/{id}/jobs/{job}/pending.
func (h *Handler) addPending(w http.ResponseWriter, r *http.Request) error {
	p, err := h.svc.AddPendingStage(r.Context(), r.PathValue("id"), r.PathValue("job"))
	if err != nil {
		return err
	}
	defer p.Wipe()
	return writeData(w, pendingData{string(p)})
}

// updatePending serves PUT /secrets/{id}/jobs/{job}/pending.
func (h *Handler) updatePending(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Value *string `json:"value"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.Value == nil {
		return coffer.Invalid("value", coffer.ReasonRequired, "value is required")
	}
	value := coffer.Payload(*in.Value)
	defer value.Wipe()
	if err := h.svc.UpdatePendingStage(r.Context(), r.PathValue("id"), r.PathValue("job"), value); err != nil {
		return err
	}
	return writeData(w, pendingData{*in.Value})
}

// randomRequest is the body of generate-random-secret; absent fields take
// NAVER's defaults.
type randomRequest struct {
	Length                  *int    `json:"length"`
	ExcludeCharacters       *string `json:"excludeCharacters"`
	ExcludeNumbers          *bool   `json:"excludeNumbers"`
	ExcludePunctuation      *bool   `json:"excludePunctuation"`
	ExcludeUppercase        *bool   `json:"excludeUppercase"`
	ExcludeLowercase        *bool   `json:"excludeLowercase"`
	IncludeSpace            *bool   `json:"includeSpace"`
	RequireEachIncludedType *bool   `json:"requireEachIncludedType"`
}

func (in *randomRequest) options() coffer.RandomOptions {
	o := coffer.DefaultRandomOptions()
	set := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	if in.Length != nil {
		o.Length = *in.Length
	}
	if in.ExcludeCharacters != nil {
		o.ExcludeCharacters = *in.ExcludeCharacters
	}
	set(&o.ExcludeNumbers, in.ExcludeNumbers)
	set(&o.ExcludePunctuation, in.ExcludePunctuation)
	set(&o.ExcludeUppercase, in.ExcludeUppercase)
	set(&o.ExcludeLowercase, in.ExcludeLowercase)
	set(&o.IncludeSpace, in.IncludeSpace)
	set(&o.RequireEachIncludedType, in.RequireEachIncludedType)
	return o
}

// generateRandom serves POST /secrets/{id}/jobs/{job}/generate-random-secret.
func (h *Handler) generateRandom(w http.ResponseWriter, r *http.Request) error {
	var in randomRequest
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	s, err := h.svc.GenerateRandomSecret(r.Context(), r.PathValue("id"), r.PathValue("job"), in.options())
	if err != nil {
		return err
	}
	return writeData(w, struct {
		RandomString string `json:"randomString"`
	}{s})
}

// completeJob serves POST /secrets/{id}/jobs/{job}/complete.
func (h *Handler) completeJob(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.CompleteRotationJob(r.Context(), r.PathValue("id"), r.PathValue("job")); err != nil {
		return err
	}
	return writeData(w, nil)
}

// failJob serves POST /secrets/{id}/jobs/{job}/fail.
func (h *Handler) failJob(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.FailRotationJob(r.Context(), r.PathValue("id"), r.PathValue("job")); err != nil {
		return err
	}
	return writeData(w, nil)
}
