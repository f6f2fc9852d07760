package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.AuditTx = (*tx)(nil)

const (
	auditColumns = `seq, time, organization_id, principal_id, access_key, certificate_serial, project_id, dialect, action,
secret_id, path, revision, outcome, status, error_code, request_id, source, user_agent, prev_hash, hash`
	appendAuditSQL = `INSERT INTO audit_records (` + auditColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	lastAuditSQL = `SELECT ` + auditColumns + ` FROM audit_records ORDER BY seq DESC LIMIT 1`
)

// AppendAudit inserts records as they are. Returns ErrConflict for a taken
// Seq.
func (t *tx) AppendAudit(ctx context.Context, recs []*coffer.AuditRecord) error {
	for _, r := range recs {
		_, err := t.exec(ctx, appendAuditSQL, r.Seq, putTime(r.Time), r.OrganizationID, r.PrincipalID, r.AccessKey,
			r.CertificateSerial, r.ProjectID, r.Dialect, r.Action, r.SecretID, r.Path, r.Revision,
			string(r.Outcome), r.Status, r.ErrorCode, r.RequestID, r.Source, r.UserAgent, r.PrevHash, r.Hash)
		if err != nil {
			return fmt.Errorf("sqlite: append audit record %d: %w", r.Seq, classify(err))
		}
	}
	return nil
}

// LastAudit returns the record with the highest Seq. Returns ErrNotFound.
func (t *tx) LastAudit(ctx context.Context) (*coffer.AuditRecord, error) {
	r, err := scanAudit(t.queryRow(ctx, lastAuditSQL))
	if err != nil {
		return nil, fmt.Errorf("sqlite: last audit record: %w", classify(err))
	}
	return r, nil
}

// ListAudit returns matching records ordered by Seq.
func (t *tx) ListAudit(ctx context.Context, q coffer.AuditQuery) ([]*coffer.AuditRecord, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if !q.From.IsZero() {
		add("time >= ?", putTime(q.From))
	}
	if !q.To.IsZero() {
		add("time < ?", putTime(q.To))
	}
	if q.OrganizationID != "" {
		add("organization_id IN (?, '')", q.OrganizationID)
	}
	if q.PrincipalID != "" {
		add("principal_id = ?", q.PrincipalID)
	}
	if q.SecretID != "" {
		add("secret_id = ?", q.SecretID)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.Outcome != "" {
		add("outcome = ?", string(q.Outcome))
	}
	if q.AfterSeq > 0 {
		add("seq > ?", q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		add("seq < ?", q.BeforeSeq)
	}
	query := `SELECT ` + auditColumns + ` FROM audit_records`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	if q.Desc {
		query += ` ORDER BY seq DESC`
	} else {
		query += ` ORDER BY seq`
	}
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit records: %w", classify(err))
	}
	defer rows.Close()
	var out []*coffer.AuditRecord
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list audit records: %w", classify(err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list audit records: %w", classify(err))
	}
	return out, nil
}

func scanAudit(s interface{ Scan(...any) error }) (*coffer.AuditRecord, error) {
	var (
		r       coffer.AuditRecord
		at      int64
		outcome string
	)
	err := s.Scan(&r.Seq, &at, &r.OrganizationID, &r.PrincipalID, &r.AccessKey, &r.CertificateSerial, &r.ProjectID, &r.Dialect,
		&r.Action, &r.SecretID, &r.Path, &r.Revision, &outcome, &r.Status, &r.ErrorCode, &r.RequestID, &r.Source,
		&r.UserAgent, &r.PrevHash, &r.Hash)
	if err != nil {
		return nil, err
	}
	r.Time, r.Outcome = getTime(at), coffer.AuditOutcome(outcome)
	return &r, nil
}
