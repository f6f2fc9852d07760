package ncloud

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

// pageSize is the number of secrets per page of GET /secrets; NAVER does
// not document its own.
const pageSize = 20

// region is the area code every secret reports: coffer has one.
const region = "KR"

// status returns NAVER's name of a secret's state.
func status(s *coffer.Secret) string {
	switch s.State {
	case coffer.SecretDisabled:
		return "DISABLE"
	case coffer.SecretDeletionScheduled:
		return "REVOKE"
	case coffer.SecretRotating:
		return "ROTATING"
	}
	return "ENABLE"
}

// secretItem is one entry of the secret list.
type secretItem struct {
	SecretID     string `json:"secretId"`
	SecretName   string `json:"secretName"`
	SecretStatus string `json:"secretStatus"`
	SecretType   string `json:"secretType"`
	Region       string `json:"region"`
	RegisterDate int64  `json:"registerDate"`
}

func itemOf(s *coffer.Secret) secretItem {
	return secretItem{
		SecretID: s.ID, SecretName: s.FullPath(), SecretStatus: status(s), SecretType: "BASIC",
		Region: region, RegisterDate: millis(s.CreatedAt),
	}
}

// secretList is the data of GET /secrets.
type secretList struct {
	TotalPageNo   int          `json:"totalPageNo"`
	CurrentPageNo int          `json:"currentPageNo"`
	TotalCount    int          `json:"totalCount"`
	SecretList    []secretItem `json:"secretList"`
}

// pageNo parses the pageNo query parameter: 1 when absent, and 0 (which
// NAVER's own example sends) is page 1 too.
func pageNo(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1_000_000 {
		return 0, coffer.Invalid(name, coffer.ReasonFormat, name+" must be a page number")
	}
	return max(n, 1), nil
}

// listSecrets serves GET /secrets: every secret the caller may see, in
// every project, oldest first.
func (h *Handler) listSecrets(w http.ResponseWriter, r *http.Request) error {
	page, err := pageNo(r, "pageNo")
	if err != nil {
		return err
	}
	secrets, total, err := h.svc.ListSecrets(r.Context(), coffer.SecretFilter{
		Order: coffer.OrderCreatedAtAsc, Offset: (page - 1) * pageSize, Limit: pageSize,
	})
	if err != nil {
		return err
	}
	out := secretList{TotalPageNo: (total + pageSize - 1) / pageSize, CurrentPageNo: page, TotalCount: total, SecretList: make([]secretItem, len(secrets))}
	for i, s := range secrets {
		out.SecretList[i] = itemOf(s)
	}
	return writeData(w, out)
}

// maxMemo is NAVER's limit on a memo, in bytes.
const maxMemo = 1000

// defaultRotationPeriod is the period, in days, a secret reports before
// automatic rotation is set up.
const defaultRotationPeriod = 90

// protectionKey is a secret's protection key.
type protectionKey struct {
	Type       string `json:"type"`
	KmsKeyTag  string `json:"kmsKeyTag"`
	KmsKeyName string `json:"kmsKeyName"`
}

// defaultKeyName is the name NAVER gives the service's own key.
const defaultKeyName = "Secret Manager Default Key"

func protectionKeyOf(s *coffer.Secret) protectionKey {
	if s.KeyID == "" {
		return protectionKey{Type: "DEFAULT", KmsKeyName: defaultKeyName}
	}
	return protectionKey{Type: "USER_MANAGED_KEY", KmsKeyTag: s.KeyID}
}

// secretDetail is the data of GET /secrets/{id} and POST /secrets.
type secretDetail struct {
	SecretID            string        `json:"secretId"`
	SecretName          string        `json:"secretName"`
	SecretStatus        string        `json:"secretStatus"`
	SecretType          string        `json:"secretType"`
	Memo                string        `json:"memo"`
	Region              string        `json:"region"`
	RegisterDate        int64         `json:"registerDate"`
	UpdateDate          int64         `json:"updateDate"`
	ExpectedDestroyDate *int64        `json:"expectedDestroyDate,omitempty"`
	AutoRotationYN      string        `json:"autoRotationYN"`
	AutoRotationPeriod  int           `json:"autoRotationPeriod"`
	NextRotationDate    *int64        `json:"nextRotationDate,omitempty"`
	LastRotationDate    *int64        `json:"lastRotationDate,omitempty"`
	RotationPhase       string        `json:"rotationPhase"`
	Trigger             *triggerRef   `json:"trigger,omitempty"`
	ProtectionKey       protectionKey `json:"protectionKey"`
}

// triggerRef is a secret's linked trigger. Decision: only its id (and
// the action of the latest job), so that a secret read is one engine call;
// GET /triggers has the rest.
type triggerRef struct {
	ID                     string `json:"id"`
	RecentlyExecutedAction string `json:"recentlyExecutedAction,omitempty"`
}

func detailOf(s *coffer.Secret) secretDetail {
	d := secretDetail{
		SecretID: s.ID, SecretName: s.FullPath(), SecretStatus: status(s), SecretType: "BASIC",
		Memo: s.Description, Region: region, RegisterDate: millis(s.CreatedAt), UpdateDate: millis(s.UpdatedAt),
		ExpectedDestroyDate: millisPtr(s.PurgeAt), AutoRotationYN: "N", AutoRotationPeriod: defaultRotationPeriod,
		RotationPhase: "NONE", ProtectionKey: protectionKeyOf(s),
	}
	if r := s.Rotation; r != nil {
		if r.Enabled {
			d.AutoRotationYN = "Y"
			d.NextRotationDate = millisPtr(r.NextRunAt)
		}
		if r.Period > 0 {
			d.AutoRotationPeriod = int(r.Period / (24 * time.Hour))
		}
		d.LastRotationDate = millisPtr(r.LastRunAt)
		if r.TriggerID != "" {
			d.Trigger = &triggerRef{ID: r.TriggerID}
			if r.Job != nil {
				d.Trigger.RecentlyExecutedAction = r.Job.Action
			}
		}
		if r.Job != nil && r.Job.State.Open() {
			d.RotationPhase = strings.ToUpper(string(r.Job.State))
		}
	}
	return d
}

// createRequest is the body of POST /secrets.
type createRequest struct {
	SecretName  string `json:"secretName"`
	Memo        string `json:"memo"`
	SecretValue *struct {
		Value           *string  `json:"value"`
		RotationTargets []string `json:"rotationTargets"`
	} `json:"secretValue"`
	SecretType         string `json:"secretType"`
	AutoRotationYN     string `json:"autoRotationYN"`
	AutoRotationPeriod *int   `json:"autoRotationPeriod"`
	TriggerID          string `json:"triggerId"`
	ProtectionKeyType  string `json:"protectionKeyType"`
	KmsKeyTag          string `json:"kmsKeyTag"`
}

// decode checks the wire fields of a create request and returns what the
// engine gets; the value and its targets are the engine's to check.
func (in *createRequest) decode() (coffer.ChainSecretCreate, error) {
	out := coffer.ChainSecretCreate{Name: in.SecretName, Description: in.Memo}
	switch {
	case in.SecretName == "":
		return out, coffer.Invalid("secretName", coffer.ReasonRequired, "secretName is required")
	case len(in.Memo) > maxMemo:
		return out, coffer.Invalid("memo", coffer.ReasonConstraint, "memo must be at most 1000 bytes")
	case in.SecretValue == nil || in.SecretValue.Value == nil:
		return out, coffer.Invalid("secretValue", coffer.ReasonRequired, "secretValue.value is required")
	case in.SecretType != "BASIC":
		return out, coffer.Invalid("secretType", coffer.ReasonConstraint, "secretType must be BASIC")
	case in.AutoRotationYN != "Y" && in.AutoRotationYN != "N":
		return out, coffer.Invalid("autoRotationYN", coffer.ReasonConstraint, "autoRotationYN must be Y or N")
	case in.AutoRotationYN == "Y":
		return out, coffer.Invalid("autoRotationYN", coffer.ReasonConstraint, "automatic rotation is set up with enable-auto-rotation once the secret exists")
	}
	out.Value = coffer.Payload(*in.SecretValue.Value)
	out.RotationTargets = in.SecretValue.RotationTargets
	switch in.ProtectionKeyType {
	case "DEFAULT":
	case "USER_MANAGED_KEY":
		if in.KmsKeyTag == "" {
			return out, coffer.Invalid("kmsKeyTag", coffer.ReasonRequired, "kmsKeyTag is required with USER_MANAGED_KEY")
		}
		out.KeyID = in.KmsKeyTag
	default:
		return out, coffer.Invalid("protectionKeyType", coffer.ReasonConstraint, "protectionKeyType must be DEFAULT or USER_MANAGED_KEY")
	}
	return out, nil
}

// createSecret serves POST /secrets.
func (h *Handler) createSecret(w http.ResponseWriter, r *http.Request) error {
	var in createRequest
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	c, err := in.decode()
	if err != nil {
		return err
	}
	defer c.Value.Wipe()
	s, err := h.svc.CreateChainSecret(r.Context(), c)
	if err != nil {
		return err
	}
	return writeData(w, detailOf(s))
}

// getSecret serves GET /secrets/{id}.
func (h *Handler) getSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.GetSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeData(w, detailOf(s))
}

// memoRequest is the body of PUT /secrets/{id}/memo.
type memoRequest struct {
	Memo *string `json:"memo"`
}

// updateMemo serves PUT /secrets/{id}/memo.
func (h *Handler) updateMemo(w http.ResponseWriter, r *http.Request) error {
	var in memoRequest
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	switch {
	case in.Memo == nil:
		return coffer.Invalid("memo", coffer.ReasonRequired, "memo is required")
	case len(*in.Memo) > maxMemo:
		return coffer.Invalid("memo", coffer.ReasonConstraint, "memo must be at most 1000 bytes")
	}
	s, err := h.svc.UpdateSecret(r.Context(), r.PathValue("id"), coffer.SecretUpdate{Description: in.Memo})
	if err != nil {
		return err
	}
	return writeData(w, struct {
		SecretID string `json:"secretId"`
		Memo     string `json:"memo"`
	}{s.ID, s.Description})
}

// statusData is the data of the status operations.
type statusData struct {
	SecretID            string `json:"secretId"`
	SecretStatus        string `json:"secretStatus"`
	UpdateDate          int64  `json:"updateDate"`
	ExpectedDestroyDate *int64 `json:"expectedDestroyDate,omitempty"`
}

// move serves the status operations: enable, disable, request-deletion,
// cancel-deletion.
func (h *Handler) move(fn func(ctx context.Context, id string) (*coffer.Secret, error)) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := fn(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeData(w, statusData{s.ID, status(s), millis(s.UpdatedAt), millisPtr(s.PurgeAt)})
	}
}

// deleteSecret serves DELETE /secrets/{id}.
func (h *Handler) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DestroySecret(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return writeData(w, nil)
}
