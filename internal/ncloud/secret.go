package ncloud

import (
	"net/http"
	"strconv"

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
