package console

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

func (h *Handler) registerAudit(mux *http.ServeMux) {
	mux.Handle("GET /audit", h.page(h.audit))
	mux.Handle("GET /audit/verify", h.page(h.verify))
}

// auditView is what the audit page shows.
type auditView struct {
	From, To, Principal, Secret, Action, Outcome string
	Records                                      []*coffer.AuditRecord
	Next                                         string
}

// timeOf reads a time filter: RFC 3339, or the browser's datetime-local
// form (taken as UTC).
func timeOf(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, coffer.Invalid(field, coffer.ReasonFormat, "The time "+strconv.Quote(s)+" is not a date and time such as 2026-01-02T15:04.")
}

// audit shows the trail, newest first, filtered, a page at a time.
func (h *Handler) audit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := auditView{From: q.Get("from"), To: q.Get("to"), Principal: strings.TrimSpace(q.Get("principal")),
		Secret: strings.TrimSpace(q.Get("secret")), Action: strings.TrimSpace(q.Get("action")), Outcome: q.Get("outcome")}
	aq := coffer.AuditQuery{PrincipalID: v.Principal, SecretID: v.Secret, Action: v.Action,
		Outcome: coffer.AuditOutcome(v.Outcome), Desc: true, Limit: pageSize}
	var err error
	if aq.From, err = timeOf("from", v.From); err != nil {
		return err
	}
	if aq.To, err = timeOf("to", v.To); err != nil {
		return err
	}
	if s := q.Get("before"); s != "" {
		if aq.BeforeSeq, err = strconv.ParseInt(s, 10, 64); err != nil || aq.BeforeSeq < 1 {
			return coffer.Invalid("before", coffer.ReasonFormat, "The position must be a positive number.")
		}
	}
	page, err := h.svc.ListAudit(r.Context(), aq)
	if err != nil {
		return err
	}
	v.Records = page.Records
	if page.Next > 0 {
		u := url.Values{"before": {strconv.FormatInt(page.Next, 10)}}
		for k, x := range map[string]string{"from": v.From, "to": v.To, "principal": v.Principal, "secret": v.Secret, "action": v.Action, "outcome": v.Outcome} {
			if x != "" {
				u.Set(k, x)
			}
		}
		v.Next = Prefix + "/audit?" + u.Encode()
	}
	h.render(w, r, http.StatusOK, "audit", &view{Title: "Audit trail", Data: v})
	return nil
}

// verify checks the chain and shows its head.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) error {
	res, err := h.svc.VerifyAudit(r.Context(), nil)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "verify", &view{Title: "Audit verification", Data: struct {
		*coffer.AuditVerification
		Head string
	}{res, strconv.FormatInt(res.HeadSeq, 10) + ":" + hex.EncodeToString(res.HeadHash)}})
	return nil
}
