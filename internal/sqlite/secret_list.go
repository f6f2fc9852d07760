package sqlite

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
func (t *tx) ListSecrets(ctx context.Context, q storage.SecretQuery) ([]*coffer.Secret, int, error) {
	ss, n, err := t.listSecrets(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list secrets: %w", err)
	}
	return ss, n, nil
}

func (t *tx) listSecrets(ctx context.Context, q storage.SecretQuery) ([]*coffer.Secret, int, error) {
	order, err := secretOrder(q.Order)
	if err != nil {
		return nil, 0, err
	}
	limit, err := pageLimit(q.Offset, q.Limit)
	if err != nil {
		return nil, 0, err
	}
	if len(q.ProjectIDs) == 0 {
		return nil, 0, nil // no project: nothing to see
	}
	where, args := secretConditions(q)

	var total int
	if err := t.queryRow(ctx,
		`SELECT COUNT(*) FROM secrets s WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, classify(err)
	}
	if q.Offset >= total {
		return nil, total, nil
	}
	rows, err := t.query(ctx, `SELECT `+secretColumns+` FROM secrets s
WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, q.Offset)...)
	if err != nil {
		return nil, 0, classify(err)
	}
	ss, err := collect(rows, scanSecret)
	if err != nil {
		return nil, 0, classify(err)
	}
	return ss, total, nil
}

// secretConditions returns the WHERE conditions of q, on the table aliased s,
// and their arguments. q.ProjectIDs is not empty.
func secretConditions(q storage.SecretQuery) (string, []any) {
	var where []string
	var args []any
	cond := func(c string, a ...any) {
		where = append(where, c)
		args = append(args, a...)
	}

	cond("s.project_id IN ("+placeholders(len(q.ProjectIDs))+")", anys(q.ProjectIDs)...)
	if q.Name != "" {
		cond("s.name = ?", q.Name)
	}
	if q.Path != "" {
		cond("s.path = ?", q.Path)
	}
	if q.PathPrefix != "" {
		// The folder itself, and what lies below it: paths that start with
		// folder+"/", which in byte order are those from folder+"/" up to,
		// not including, folder+"0" ('0' follows '/'). A range keeps the
		// condition on the (project_id, path, name) index.
		folder := strings.TrimSuffix(q.PathPrefix, "/")
		if folder == "" {
			cond("s.path >= '/' AND s.path < '0'") // the root holds every path
		} else {
			cond("(s.path = ? OR (s.path >= ? AND s.path < ?))", folder, folder+"/", folder+"0")
		}
	}
	if len(q.PathPrefixes) > 0 && !slices.ContainsFunc(q.PathPrefixes, isRoot) {
		var alts []string
		var altArgs []any
		for _, p := range q.PathPrefixes {
			folder := strings.TrimSuffix(p, "/")
			alts = append(alts, "s.path = ? OR (s.path >= ? AND s.path < ?)")
			altArgs = append(altArgs, folder, folder+"/", folder+"0")
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
	return strings.Join(where, " AND "), args
}

// ListTags returns one page of the distinct tags of a project's secrets in
// byte order, and their number.
func (t *tx) ListTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error) {
	tags, n, err := t.listTags(ctx, projectID, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list tags of project %s: %w", projectID, err)
	}
	return tags, n, nil
}

func (t *tx) listTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error) {
	lim, err := pageLimit(offset, limit)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := t.queryRow(ctx,
		`SELECT COUNT(DISTINCT tag) FROM secret_tags WHERE project_id = ?`, projectID).Scan(&total); err != nil {
		return nil, 0, classify(err)
	}
	if offset >= total {
		return nil, total, nil
	}
	rows, err := t.query(ctx, `SELECT DISTINCT tag FROM secret_tags WHERE project_id = ?
ORDER BY tag LIMIT ? OFFSET ?`, projectID, lim, offset)
	if err != nil {
		return nil, 0, classify(err)
	}
	tags, err := collect(rows, scanString)
	if err != nil {
		return nil, 0, classify(err)
	}
	return tags, total, nil
}

// ListSecretTypes returns the distinct types of a project's secrets in byte
// order.
func (t *tx) ListSecretTypes(ctx context.Context, projectID string) ([]coffer.SecretType, error) {
	rows, err := t.query(ctx,
		`SELECT DISTINCT type FROM secrets WHERE project_id = ? ORDER BY type`, projectID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list secret types of project %s: %w", projectID, classify(err))
	}
	types, err := collect(rows, func(row scanner) (coffer.SecretType, error) {
		var typ coffer.SecretType
		return typ, row.Scan(&typ)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list secret types of project %s: %w", projectID, classify(err))
	}
	return types, nil
}

// pageLimit checks a page's bounds and returns the LIMIT that selects it: a
// limit of 0 means none.
func pageLimit(offset, limit int) (int64, error) {
	if offset < 0 || limit < 0 {
		return 0, fmt.Errorf("invalid page: offset %d, limit %d", offset, limit)
	}
	if limit == 0 {
		return math.MaxInt64, nil
	}
	return int64(limit), nil
}

// placeholders returns n comma-separated parameter markers.
func placeholders(n int) string {
	return strings.TrimPrefix(strings.Repeat(", ?", n), ", ")
}

// anys returns the elements of s as arguments.
func anys[T any](s []T) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// scanString reads one text column.
func scanString(row scanner) (string, error) {
	var s string
	return s, row.Scan(&s)
}

// isRoot reports whether a path prefix is the root, which holds every path.
func isRoot(prefix string) bool { return strings.TrimSuffix(prefix, "/") == "" }
