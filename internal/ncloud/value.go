package ncloud

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-dev/coffer"
)

// chainJSON is a secret chain on the wire: each stage's value, a string
// that holds a JSON object, or null.
type chainJSON struct {
	Previous *string `json:"previous"`
	Active   *string `json:"active"`
	Pending  *string `json:"pending"`
}

func strOrNil(p coffer.Payload) *string {
	if p == nil {
		return nil
	}
	return new(string(p))
}

// readChain serves GET /secrets/{id}/values.
func (h *Handler) readChain(w http.ResponseWriter, r *http.Request) error {
	s, chain, err := h.svc.ReadChain(r.Context(), r.PathValue("id"))
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

// stageOf returns the stage a path names: previous, active or pending, in
// lower case as NAVER's paths have them.
func stageOf(r *http.Request) (string, error) {
	st := r.PathValue("stage")
	if !coffer.ValidStage(st) {
		return "", coffer.Invalid("stage", coffer.ReasonConstraint, "the stage must be previous, active or pending")
	}
	return st, nil
}

// readStage serves GET /secrets/{id}/{stage}.
func (h *Handler) readStage(w http.ResponseWriter, r *http.Request) error {
	st, err := stageOf(r)
	if err != nil {
		return err
	}
	_, data, err := h.svc.ReadStage(r.Context(), r.PathValue("id"), st)
	if err != nil {
		return err
	}
	defer data.Wipe()
	type value struct {
		Value      string `json:"value"`
		ValueStage string `json:"valueStage"`
	}
	return writeData(w, struct {
		DecryptedSecretValue value `json:"decryptedSecretValue"`
	}{value{string(data), strings.ToUpper(st)}})
}

// ciphertext is what a write answers for a stored value: NAVER returns its
// KMS ciphertext, which no client reads back. coffer returns an opaque
// reference of the same form that names the secret and revision, never
// the value.
func ciphertext(s *coffer.Secret, stage string) *string {
	rev, ok := s.Stages[stage]
	if !ok {
		return nil
	}
	ref := s.ID + "/" + strconv.FormatUint(uint64(rev), 10)
	return new("ncpkms:v1:" + base64.RawURLEncoding.EncodeToString([]byte(ref)))
}

// writeChain serves PUT /secrets/{id}/values: a stage omitted or empty is
// removed.
func (h *Handler) writeChain(w http.ResponseWriter, r *http.Request) error {
	var in chainJSON
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	chain := coffer.SecretChain{Previous: payloadOf(in.Previous), Active: payloadOf(in.Active), Pending: payloadOf(in.Pending)}
	defer chain.Wipe()
	s, err := h.svc.WriteChain(r.Context(), r.PathValue("id"), chain)
	if err != nil {
		return err
	}
	return writeData(w, struct {
		EncryptedSecretChain chainJSON `json:"encryptedSecretChain"`
	}{chainJSON{ciphertext(s, coffer.StagePrevious), ciphertext(s, coffer.StageActive), ciphertext(s, coffer.StagePending)}})
}

func payloadOf(s *string) coffer.Payload {
	if s == nil || *s == "" {
		return nil
	}
	return coffer.Payload(*s)
}

// writeStage serves PUT /secrets/{id}/values/{stage}.
func (h *Handler) writeStage(w http.ResponseWriter, r *http.Request) error {
	st, err := stageOf(r)
	if err != nil {
		return err
	}
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
	s, err := h.svc.WriteStage(r.Context(), r.PathValue("id"), st, value)
	if err != nil {
		return err
	}
	type encrypted struct {
		Value      *string `json:"value"`
		ValueStage string  `json:"valueStage"`
	}
	return writeData(w, struct {
		EncryptedSecretValue encrypted `json:"encryptedSecretValue"`
	}{encrypted{ciphertext(s, st), st}})
}

// keyItem is one protection key of GET /keys.
type keyItem struct {
	KeyID     any    `json:"keyId"`
	KeyTag    string `json:"keyTag"`
	KeyName   string `json:"keyName"`
	KeyStatus string `json:"keyStatus"`
	KeyType   string `json:"keyType"`
}

// listKeys serves GET /keys: the service's default key, as NAVER lists it
// first (keyId 0, no tag, status or type).
func (h *Handler) listKeys(w http.ResponseWriter, _ *http.Request) error {
	return writeData(w, struct {
		KeyList []keyItem `json:"keyList"`
	}{[]keyItem{{KeyID: 0, KeyName: defaultKeyName}}})
}

// changeProtectionKey serves PUT /secrets/{id}/protection-key: DEFAULT, or
// USER_MANAGED_KEY with kmsKeyTag, a coffer protection key of the secret's
// project.
func (h *Handler) changeProtectionKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ProtectionKeyType string `json:"protectionKeyType"`
		KmsKeyTag         string `json:"kmsKeyTag"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	keyID := ""
	switch in.ProtectionKeyType {
	case "DEFAULT":
	case "USER_MANAGED_KEY":
		if in.KmsKeyTag == "" {
			return coffer.Invalid("kmsKeyTag", coffer.ReasonRequired, "kmsKeyTag is required with USER_MANAGED_KEY")
		}
		keyID = in.KmsKeyTag
	default:
		return coffer.Invalid("protectionKeyType", coffer.ReasonConstraint, "protectionKeyType must be DEFAULT or USER_MANAGED_KEY")
	}
	s, err := h.svc.ChangeProtectionKey(r.Context(), r.PathValue("id"), keyID)
	if err != nil {
		return err
	}
	return writeData(w, struct {
		SecretID      string        `json:"secretId"`
		ProtectionKey protectionKey `json:"protectionKey"`
	}{s.ID, protectionKeyOf(s)})
}
