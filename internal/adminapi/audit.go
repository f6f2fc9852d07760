package adminapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

// registerAudit mounts the audit trail's routes:
//
//	GET /coffer/v1/audit          records, filtered and paged (see auditQuery)
//	GET /coffer/v1/audit/verify   walks the whole chain
func (h *Handler) registerAudit(mux *http.ServeMux) {
	mux.Handle("GET /audit", h.wrap(h.listAudit))
	mux.Handle("GET /audit/verify", h.wrap(h.verifyAudit))
}

// AuditRecord is the wire form of a coffer.AuditRecord.
type AuditRecord struct {
	Seq               int64     `json:"seq"`
	Time              time.Time `json:"time"`
	OrganizationID    string    `json:"organization_id,omitempty"`
	PrincipalID       string    `json:"principal_id,omitempty"`
	AccessKey         string    `json:"access_key,omitempty"`
	CertificateSerial string    `json:"certificate_serial,omitempty"`
	ProjectID         string    `json:"project_id,omitempty"`
	Dialect           string    `json:"dialect"`
	Action            string    `json:"action"`
	SecretID          string    `json:"secret_id,omitempty"`
	Path              string    `json:"path,omitempty"`
	Revision          string    `json:"revision,omitempty"`
	Outcome           string    `json:"outcome"`
	Status            int       `json:"status"`
	ErrorCode         string    `json:"error_code,omitempty"`
	RequestID         string    `json:"request_id"`
	Source            string    `json:"source,omitempty"`
	UserAgent         string    `json:"user_agent,omitempty"`
	PrevHash          string    `json:"prev_hash"`
	Hash              string    `json:"hash"`
}

// AuditPage is one page of records. Next, when set, is the value of
// "after" (or, newest first, "before") that asks for the next page. A page
// may be short, or empty, and still have a Next: one request reads a
// bounded part of the trail.
type AuditPage struct {
	Records []AuditRecord `json:"records"`
	Next    int64         `json:"next,omitempty"`
}

// AuditVerification is the wire form of a coffer.AuditVerification.
type AuditVerification struct {
	OK       bool   `json:"ok"`
	Records  int64  `json:"records"`
	FirstBad int64  `json:"first_bad,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// HeadSeq and HeadHash (hex) are the chain's head the walk started
	// from: an anchor to keep outside the database.
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash,omitempty"`
}

// auditQuery reads the query string: from, to (RFC 3339), principal_id,
// secret_id, action, outcome (ok, denied, error), after, before (sequence
// numbers), order (asc, the default, or desc) and page_size (1 to 1000,
// default 100).
func auditQuery(v url.Values) (coffer.AuditQuery, error) {
	q := coffer.AuditQuery{
		PrincipalID: v.Get("principal_id"),
		SecretID:    v.Get("secret_id"),
		Action:      v.Get("action"),
		Outcome:     coffer.AuditOutcome(v.Get("outcome")),
	}
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return q, coffer.Invalid(name, coffer.ReasonFormat, name+" must be an RFC 3339 time")
			}
			*dst = t
		}
	}
	for name, dst := range map[string]*int64{"after": &q.AfterSeq, "before": &q.BeforeSeq} {
		if s := v.Get(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return q, coffer.Invalid(name, coffer.ReasonFormat, name+" must be a sequence number")
			}
			*dst = n
		}
	}
	if s := v.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, coffer.Invalid("page_size", coffer.ReasonFormat, "page_size must be a positive number")
		}
		q.Limit = n
	}
	switch v.Get("order") {
	case "", "asc":
	case "desc":
		q.Desc = true
	default:
		return q, coffer.Invalid("order", coffer.ReasonFormat, "order must be asc or desc")
	}
	return q, nil
}

func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	q, err := auditQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	got, err := h.svc.ListAudit(r.Context(), q)
	if err != nil {
		return err
	}
	page := AuditPage{Records: make([]AuditRecord, 0, len(got.Records)), Next: got.Next}
	for _, rec := range got.Records {
		page.Records = append(page.Records, AuditRecord{
			Seq: rec.Seq, Time: rec.Time, OrganizationID: rec.OrganizationID, PrincipalID: rec.PrincipalID, AccessKey: rec.AccessKey,
			CertificateSerial: rec.CertificateSerial, ProjectID: rec.ProjectID, Dialect: rec.Dialect,
			Action: rec.Action, SecretID: rec.SecretID, Path: rec.Path, Revision: rec.Revision,
			Outcome: string(rec.Outcome), Status: rec.Status, ErrorCode: rec.ErrorCode, RequestID: rec.RequestID, Source: rec.Source,
			UserAgent: rec.UserAgent, PrevHash: hex.EncodeToString(rec.PrevHash), Hash: hex.EncodeToString(rec.Hash),
		})
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *Handler) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	var anchor *coffer.AuditAnchor
	if s := r.URL.Query().Get("anchor"); s != "" {
		a, err := ParseAnchor(s)
		if err != nil {
			return err
		}
		anchor = a
	}
	v, err := h.svc.VerifyAudit(r.Context(), anchor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, NewAuditVerification(v))
	return nil
}

// NewAuditVerification returns the wire form of a verification.
func NewAuditVerification(v *coffer.AuditVerification) AuditVerification {
	out := AuditVerification{OK: v.OK, Records: v.Records, FirstBad: v.FirstBad, Problem: v.Problem, HeadSeq: v.HeadSeq}
	if v.HeadSeq > 0 {
		out.HeadHash = hex.EncodeToString(v.HeadHash)
	}
	return out
}

// ParseAnchor reads an anchor written SEQ:HASH, the hash in hex, as
// coffer audit verify prints the head.
func ParseAnchor(s string) (*coffer.AuditAnchor, error) {
	bad := coffer.Invalid("anchor", coffer.ReasonFormat, "anchor must be SEQ:HASH, the hash in hex")
	seq, hash, ok := strings.Cut(s, ":")
	if !ok {
		return nil, bad
	}
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil || n < 1 {
		return nil, bad
	}
	h, err := hex.DecodeString(hash)
	if err != nil || len(h) != sha256.Size {
		return nil, bad
	}
	return &coffer.AuditAnchor{Seq: n, Hash: h}, nil
}
