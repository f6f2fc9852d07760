package nodetest

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/storage"
)

// AuditRecords returns the audit records as stored, oldest first, read
// from the blocks without any check.
func (s *SQL) AuditRecords(t testing.TB) []*coffer.AuditRecord {
	t.Helper()
	rows, err := s.db.Query(`SELECT first_seq, last_seq, min_time, max_time, data FROM audit_blocks ORDER BY first_seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []*coffer.AuditRecord
	for rows.Next() {
		var (
			b          storage.AuditBlock
			minT, maxT int64
		)
		if err := rows.Scan(&b.FirstSeq, &b.LastSeq, &minT, &maxT, &b.Data); err != nil {
			t.Fatal(err)
		}
		b.MinTime, b.MaxTime = time.UnixMicro(minT), time.UnixMicro(maxT)
		recs, err := audit.DecodeBlock(&b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// RewriteAudit replaces the stored trail with what edit makes of its
// records, as someone holding the database could: the records edit returns
// are stored as they are, stale hashes included, in one block whose bounds
// match them, and the chain's head is left alone.
func (s *SQL) RewriteAudit(t testing.TB, edit func(recs []*coffer.AuditRecord) []*coffer.AuditRecord) {
	t.Helper()
	recs := edit(s.AuditRecords(t))
	if _, err := s.Exec(`DELETE FROM audit_blocks`); err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		return
	}
	b := audit.EncodeBlock(recs)
	if _, err := s.Exec(`INSERT INTO audit_blocks (first_seq, last_seq, min_time, max_time, data) VALUES (?, ?, ?, ?, ?)`,
		b.FirstSeq, b.LastSeq, b.MinTime.UnixMicro(), b.MaxTime.UnixMicro(), b.Data); err != nil {
		t.Fatal(err)
	}
}

// RechainAudit replaces the stored trail with what edit makes of its
// records, hashed again into a valid chain with its head: what someone
// holding the database and knowing the format could do. Only an anchor
// kept outside the database tells.
func (s *SQL) RechainAudit(t testing.TB, edit func(recs []*coffer.AuditRecord) []*coffer.AuditRecord) {
	t.Helper()
	recs := edit(s.AuditRecords(t))
	prev := make([]byte, audit.HashSize)
	for i, r := range recs {
		r.Seq, r.PrevHash = int64(i+1), prev
		r.Hash = audit.Hash(r)
		prev = r.Hash
	}
	s.RewriteAudit(t, func([]*coffer.AuditRecord) []*coffer.AuditRecord { return recs })
	head := binary.BigEndian.AppendUint64(nil, uint64(len(recs)))
	if _, err := s.Exec(`UPDATE meta SET value = ? WHERE name = ?`, append(head, prev...), audit.HeadMeta); err != nil {
		t.Fatal(err)
	}
}
