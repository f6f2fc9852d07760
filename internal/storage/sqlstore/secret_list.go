package sqlstore

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// secretOrder returns the ORDER BY clause of a secret order, on the table
// aliased s. A descending order is the exact reverse of its ascending one,
// ties included.
func secretOrder(o coffer.SecretOrder) (string, error) {
	switch o {
	case "", coffer.OrderNameAsc:
		return "s.name ASC, s.id ASC", nil
	case coffer.OrderNameDesc:
		return "s.name DESC, s.id DESC", nil
	case coffer.OrderCreatedAtAsc:
		return "s.created_at ASC, s.id ASC", nil
	case coffer.OrderCreatedAtDesc:
		return "s.created_at DESC, s.id DESC", nil
	case coffer.OrderUpdatedAtAsc:
		return "s.updated_at ASC, s.id ASC", nil
	case coffer.OrderUpdatedAtDesc:
		return "s.updated_at DESC, s.id DESC", nil
	}
	return "", fmt.Errorf("unknown order %q", o)
}

// ListSecrets returns one page of matching secrets and the number of
// matches across all pages, counted over the same conditions.
func (t *Tx) ListSecrets(ctx context.Context, q storage.SecretQuery) ([]*coffer.Secret, int, error) {
	ss, n, err := t.listSecrets(ctx, q)
	if err != nil {
		return nil, 0, t.errorf("list secrets: %w", err)
	}
	return ss, n, nil
}

func (t *Tx) listSecrets(ctx context.Context, q storage.SecretQuery) ([]*coffer.Secret, int, error) {
	order, err := secretOrder(q.Order)
	if err != nil {
		return nil, 0, err
	}
	if err := checkPage(q.Offset, q.Limit); err != nil {
		return nil, 0, err
	}
	if len(q.ProjectIDs) == 0 {
		return nil, 0, nil // no project: nothing to see
	}
	var args []any
	where := t.secretConditions(q, &args)

	var total int
	if err := t.queryRowBuilt(ctx,
		`SELECT COUNT(*) FROM secrets s WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, t.classify(err)
	}
	if q.Offset >= total {
		return nil, total, nil
	}
	page := pageClause(&args, q.Offset, q.Limit)
	rows, err := t.queryBuilt(ctx, `SELECT `+secretColumns+` FROM secrets s
WHERE `+where+` ORDER BY `+order+page, args...)
	if err != nil {
		return nil, 0, t.classify(err)
	}
	ss, err := collect(rows, scanSecret)
	if err != nil {
		return nil, 0, t.classify(err)
	}
	return ss, total, nil
}

// secretConditions returns the WHERE conditions of q, on the table aliased s,
// adding their arguments to args. q.ProjectIDs is not empty.
func (t *Tx) secretConditions(q storage.SecretQuery, args *[]any) string {
	where := []string{t.inList("s.project_id", q.ProjectIDs, args)}
	cond := func(c string, a ...any) {
		where = append(where, c)
		*args = append(*args, a...)
	}
	if q.Name != "" {
		cond("s.name = ?", q.Name)
	}
	if q.Path != "" {
		// On the folder index, which holds the state and the name order.
		cond(folderKey+" = ?", keysOf(q.Path).own)
	}
	if q.PathPrefix != "" && !isRoot(q.PathPrefix) {
		// The folder itself and what lies below it: one range of the
		// folder index (folder.go).
		lo, hi := keyRange(q.PathPrefix)
		cond(folderKey+" >= ? AND "+folderKey+" < ?", lo, hi)
	}
	if len(q.PathPrefixes) > 0 && !slices.ContainsFunc(q.PathPrefixes, isRoot) {
		var alts []string
		var altArgs []any
		for _, p := range q.PathPrefixes {
			lo, hi := keyRange(p)
			alts = append(alts, "("+folderKey+" >= ? AND "+folderKey+" < ?)")
			altArgs = append(altArgs, lo, hi)
		}
		cond("("+strings.Join(alts, " OR ")+")", altArgs...)
	}
	for _, tag := range q.Tags {
		cond("EXISTS (SELECT 1 FROM secret_tags st WHERE st.secret_id = s.id AND st.tag = ?)", tag)
	}
	if q.Type != "" {
		cond("s.type = ?", string(q.Type))
	}
	if q.Ephemeral != nil {
		if *q.Ephemeral {
			cond("s.ephemeral IS NOT NULL")
		} else {
			cond("s.ephemeral IS NULL")
		}
	}
	if q.ScheduledForDeletion != nil {
		if *q.ScheduledForDeletion {
			cond("s.state = ?", string(coffer.SecretDeletionScheduled))
		} else {
			cond("s.state <> ?", string(coffer.SecretDeletionScheduled))
		}
	}
	return strings.Join(where, " AND ")
}

// inList returns the condition that column is one of values, adding its
// arguments to args: an equality for one value, else one array where the driver binds arrays, so that the
// query's text does not vary with the number of values, else one
// placeholder each.
func (t *Tx) inList(column string, values []string, args *[]any) string {
	if len(values) == 1 {
		// An equality, which the planners know to read an index in order
		// by the columns that follow.
		*args = append(*args, values[0])
		return column + " = ?"
	}
	if t.s.d.Arrays {
		*args = append(*args, values)
		return column + " = ANY(?)"
	}
	for _, v := range values {
		*args = append(*args, v)
	}
	return column + " IN (" + strings.TrimPrefix(strings.Repeat(", ?", len(values)), ", ") + ")"
}

// ListTags returns one page of the distinct tags of a project's secrets in
// byte order, and their number.
func (t *Tx) ListTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error) {
	tags, n, err := t.listTags(ctx, projectID, offset, limit)
	if err != nil {
		return nil, 0, t.errorf("list tags of project %s: %w", projectID, err)
	}
	return tags, n, nil
}

func (t *Tx) listTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error) {
	if err := checkPage(offset, limit); err != nil {
		return nil, 0, err
	}
	var total int
	if err := t.queryRow(ctx,
		`SELECT COUNT(DISTINCT tag) FROM secret_tags WHERE project_id = ?`, projectID).Scan(&total); err != nil {
		return nil, 0, t.classify(err)
	}
	if offset >= total {
		return nil, total, nil
	}
	args := []any{projectID}
	page := pageClause(&args, offset, limit)
	rows, err := t.queryBuilt(ctx, `SELECT DISTINCT tag FROM secret_tags WHERE project_id = ?
ORDER BY tag`+page, args...)
	if err != nil {
		return nil, 0, t.classify(err)
	}
	tags, err := collect(rows, scanString)
	if err != nil {
		return nil, 0, t.classify(err)
	}
	return tags, total, nil
}

// ListSecretTypes returns the distinct types of a project's secrets in byte
// order.
func (t *Tx) ListSecretTypes(ctx context.Context, projectID string) ([]coffer.SecretType, error) {
	rows, err := t.query(ctx,
		`SELECT DISTINCT type FROM secrets WHERE project_id = ? ORDER BY type`, projectID)
	if err != nil {
		return nil, t.errorf("list secret types of project %s: %w", projectID, t.classify(err))
	}
	types, err := collect(rows, func(row Row) (coffer.SecretType, error) {
		s, err := scanString(row)
		return coffer.SecretType(s), err
	})
	if err != nil {
		return nil, t.errorf("list secret types of project %s: %w", projectID, t.classify(err))
	}
	return types, nil
}

// checkPage checks a page's bounds: a limit of 0 means none.
func checkPage(offset, limit int) error {
	if offset < 0 || limit < 0 {
		return fmt.Errorf("invalid page: offset %d, limit %d", offset, limit)
	}
	return nil
}

// pageClause returns the LIMIT and OFFSET clause of a page, adding its
// arguments to args. A limit of 0 means none; SQLite takes an OFFSET only
// after a LIMIT, so an offset without a limit gets the largest one.
func pageClause(args *[]any, offset, limit int) string {
	clause := ""
	switch {
	case limit > 0:
		*args = append(*args, int64(limit))
		clause = " LIMIT ?"
	case offset > 0:
		*args = append(*args, int64(math.MaxInt64))
		clause = " LIMIT ?"
	}
	if offset > 0 {
		*args = append(*args, int64(offset))
		clause += " OFFSET ?"
	}
	return clause
}

// scanString reads one text column.
func scanString(row Row) (string, error) {
	var s string
	return s, row.Scan(&s)
}

// isRoot reports whether a path prefix is the root, which holds every path.
func isRoot(prefix string) bool { return strings.TrimSuffix(prefix, "/") == "" }
