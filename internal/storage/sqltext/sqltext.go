// Package sqltext holds SQL text that the SQLite and PostgreSQL stores
// share. The two drivers write placeholders differently (? and $n), so a
// query is built with a function that writes the n-th placeholder, and the
// arguments come back in order, already in column form.
package sqltext

import (
	"strconv"
	"strings"

	"github.com/coffer-dev/coffer/internal/storage"
)

// Placeholder writes the n-th (from 1) placeholder of a query.
type Placeholder func(n int) string

// Question is SQLite's placeholder.
func Question(int) string { return "?" }

// Dollar is PostgreSQL's placeholder.
func Dollar(n int) string { return "$" + strconv.Itoa(n) }

// AuditBlockColumns are the columns of audit_blocks, in the order
// AppendAuditBlock binds and the stores scan them.
const AuditBlockColumns = `first_seq, last_seq, min_time, max_time, data`

// AppendAuditBlock inserts one block: bind FirstSeq, LastSeq, MinTime and
// MaxTime (microseconds) and Data.
func AppendAuditBlock(ph Placeholder) string {
	return `INSERT INTO audit_blocks (` + AuditBlockColumns + `) VALUES (` +
		ph(1) + `, ` + ph(2) + `, ` + ph(3) + `, ` + ph(4) + `, ` + ph(5) + `)`
}

// LastAuditBlock selects the block with the highest first_seq.
const LastAuditBlock = `SELECT ` + AuditBlockColumns + ` FROM audit_blocks ORDER BY first_seq DESC LIMIT 1`

// ListAuditBlocks returns the query that selects the blocks q asks for,
// and its arguments.
func ListAuditBlocks(q storage.AuditBlockQuery, ph Placeholder) (string, []any) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, cond+" "+ph(len(args)))
	}
	if q.AfterSeq > 0 {
		// The blocks from the one that holds AfterSeq+1, found through
		// the primary key, whose last_seq is past AfterSeq.
		args = append(args, q.AfterSeq+1)
		where = append(where, "first_seq >= coalesce((SELECT max(first_seq) FROM audit_blocks WHERE first_seq <= "+ph(len(args))+"), 0)")
		add("last_seq >", q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		add("first_seq <", q.BeforeSeq)
	}
	if !q.From.IsZero() {
		add("max_time >=", q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		add("min_time <", q.To.UnixMicro())
	}
	query := `SELECT ` + AuditBlockColumns + ` FROM audit_blocks`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	if q.Desc {
		query += ` ORDER BY first_seq DESC`
	} else {
		query += ` ORDER BY first_seq`
	}
	if q.Limit > 0 {
		args = append(args, q.Limit)
		query += ` LIMIT ` + ph(len(args))
	}
	return query, args
}
