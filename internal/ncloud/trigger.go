package ncloud

import (
	"net/http"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer"
)

// triggerItem is one trigger of GET /triggers. A coffer trigger is a
// webhook: pageUrl is its URL, platform "coffer-webhook".
type triggerItem struct {
	ID               string       `json:"id"`
	Name             string       `json:"name"`
	Description      string       `json:"description"`
	PageURL          string       `json:"pageUrl"`
	Platform         string       `json:"platform"`
	Region           string       `json:"region"`
	LinkedSecretList []string     `json:"linkedSecretList"`
	ActionList       []actionItem `json:"actionList"`
}

type actionItem struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// listTriggers serves GET /triggers: the triggers of every project the key
// may see.
func (h *Handler) listTriggers(w http.ResponseWriter, r *http.Request) error {
	trs, err := h.svc.ListTriggers(r.Context(), "")
	if err != nil {
		return err
	}
	out := make([]triggerItem, 0, len(trs))
	for _, t := range trs {
		linked := t.Secrets
		if linked == nil {
			linked = []string{}
		}
		out = append(out, triggerItem{ID: t.ID, Name: t.Name, Description: t.URL, PageURL: t.URL,
			Platform: "coffer-webhook", Region: region, LinkedSecretList: linked,
			ActionList: []actionItem{{Name: t.Name, Description: "POST " + t.URL}}})
	}
	return writeData(w, struct {
		TriggerList []triggerItem `json:"triggerList"`
	}{out})
}

// rotationData is the data of the automatic rotation operations.
type rotationData struct {
	SecretID           string      `json:"secretId"`
	AutoRotationYN     string      `json:"autoRotationYN"`
	AutoRotationPeriod int         `json:"autoRotationPeriod,omitempty"`
	NextRotationDate   *int64      `json:"nextRotationDate,omitempty"`
	Trigger            *triggerRef `json:"trigger,omitempty"`
}

func rotationDataOf(s *coffer.Secret) rotationData {
	d := detailOf(s)
	out := rotationData{SecretID: d.SecretID, AutoRotationYN: d.AutoRotationYN, Trigger: d.Trigger}
	if d.AutoRotationYN == "Y" {
		out.AutoRotationPeriod, out.NextRotationDate = d.AutoRotationPeriod, d.NextRotationDate
	}
	return out
}

// enableAutoRotation serves POST /secrets/{id}/enable-auto-rotation.
func (h *Handler) enableAutoRotation(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		RotationPeriod *int   `json:"rotationPeriod"`
		TriggerID      string `json:"triggerId"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	days := 0
	if in.RotationPeriod != nil {
		if days = *in.RotationPeriod; days == 0 {
			return coffer.Invalid("rotationPeriod", coffer.ReasonConstraint, "rotationPeriod must be between 1 and 730")
		}
	}
	s, err := h.svc.EnableAutoRotation(r.Context(), r.PathValue("id"), days, in.TriggerID)
	if err != nil {
		return err
	}
	return writeData(w, rotationDataOf(s))
}

// disableAutoRotation serves POST /secrets/{id}/disable-auto-rotation.
func (h *Handler) disableAutoRotation(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.DisableAutoRotation(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeData(w, rotationData{SecretID: s.ID, AutoRotationYN: "N"})
}

// setRotationPeriod serves PUT /secrets/{id}/rotation-period.
func (h *Handler) setRotationPeriod(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		RotationPeriod *int `json:"rotationPeriod"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.RotationPeriod == nil {
		return coffer.Invalid("rotationPeriod", coffer.ReasonRequired, "rotationPeriod is required")
	}
	s, err := h.svc.SetRotationPeriod(r.Context(), r.PathValue("id"), *in.RotationPeriod)
	if err != nil {
		return err
	}
	d := rotationDataOf(s)
	d.AutoRotationPeriod = detailOf(s).AutoRotationPeriod
	d.Trigger = nil
	return writeData(w, d)
}

// linkTrigger serves PUT /secrets/{id}/triggers.
func (h *Handler) linkTrigger(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		TriggerID string `json:"triggerId"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.TriggerID == "" {
		return coffer.Invalid("triggerId", coffer.ReasonRequired, "triggerId is required")
	}
	s, err := h.svc.LinkTrigger(r.Context(), r.PathValue("id"), in.TriggerID)
	if err != nil {
		return err
	}
	return writeData(w, struct {
		SecretID string      `json:"secretId"`
		Trigger  *triggerRef `json:"trigger"`
	}{s.ID, detailOf(s).Trigger})
}

// unlinkTrigger serves DELETE /secrets/{id}/triggers.
func (h *Handler) unlinkTrigger(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.UnlinkTrigger(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return writeData(w, nil)
}

// logEntry is one entry of GET /secrets/{id}/logs: an audit record. NAVER
// does not document the entry's fields; these are coffer's. A rotation
// step names its job by id, never by token.
type logEntry struct {
	Seq         int64  `json:"seq"`
	Timestamp   int64  `json:"timestamp"`
	Action      string `json:"action"`
	Dialect     string `json:"dialect"`
	PrincipalID string `json:"principalId"`
	AccessKey   string `json:"accessKey,omitempty"`
	Outcome     string `json:"outcome"`
	Status      int    `json:"status"`
	ErrorCode   string `json:"errorCode,omitempty"`
	Revision    string `json:"revision,omitempty"`
	RequestID   string `json:"requestId"`
}

// listLogs serves GET /secrets/{id}/logs: keyword, pageNo (from 1),
// pageSize (default 100), timestampFrom and timestampTo (epoch ms).
func (h *Handler) listLogs(w http.ResponseWriter, r *http.Request) error {
	qv := r.URL.Query()
	num := func(name string, def int64) (int64, error) {
		v := qv.Get(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, coffer.Invalid(name, coffer.ReasonFormat, name+" must be a non-negative integer")
		}
		return n, nil
	}
	pageNo, err := num("pageNo", 1)
	if err != nil {
		return err
	}
	pageSize, err := num("pageSize", 100)
	if err != nil {
		return err
	}
	from, err := num("timestampFrom", 0)
	if err != nil {
		return err
	}
	to, err := num("timestampTo", 0)
	if err != nil {
		return err
	}
	if pageNo == 0 {
		pageNo = 1
	}
	if pageSize == 0 || pageSize > 1000 || pageNo > coffer.MaxSecretLogs {
		return coffer.Invalid("pageSize", coffer.ReasonConstraint, "pageSize must be between 1 and 1000")
	}
	q := coffer.SecretLogQuery{Keyword: qv.Get("keyword"), Offset: int((pageNo - 1) * pageSize), Limit: int(pageSize)}
	if from > 0 {
		q.From = time.UnixMilli(from)
	}
	if to > 0 {
		// timestampTo is inclusive, to the millisecond.
		q.To = time.UnixMilli(to + 1)
	}
	recs, total, err := h.svc.SecretLogs(r.Context(), r.PathValue("id"), q)
	if err != nil {
		return err
	}
	out := make([]logEntry, 0, len(recs))
	for _, rec := range recs {
		out = append(out, logEntry{Seq: rec.Seq, Timestamp: millis(rec.Time), Action: rec.Action, Dialect: rec.Dialect,
			PrincipalID: rec.PrincipalID, AccessKey: rec.AccessKey, Outcome: string(rec.Outcome), Status: rec.Status,
			ErrorCode: rec.ErrorCode, Revision: rec.Revision, RequestID: rec.RequestID})
	}
	return writeData(w, struct {
		PageSize    int        `json:"pageSize"`
		CurrentPage int        `json:"currentPage"`
		TotalPage   int        `json:"totalPage"`
		TotalCount  int        `json:"totalCount"`
		Result      []logEntry `json:"result"`
		Paged       bool       `json:"paged"`
	}{int(pageSize), int(pageNo), (total + int(pageSize) - 1) / int(pageSize), total, out, true})
}
