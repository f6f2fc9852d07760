package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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

// params collects the arguments of a query built piece by piece and names
// each by its number.
type params []any

// add appends an argument and returns its placeholder.
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// ListSecrets returns one page of matching secrets and the number of
// matches across all pages, counted over the same conditions.
func (t *tx) ListSecrets(ctx context.Context, q storage.SecretQuery) ([]*coffer.Secret, int, error) {
	ss, n, err := t.listSecrets(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list secrets: %w", err)
	}
	return ss, n, nil
}

func (t *tx) listSecrets(ctx context.Context, q storage.SecretQuery) ([]*coffer.Secret, int, error) {
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
	var args params
	where := secretConditions(q, &args)

	var total int
	if err := t.tx.QueryRow(ctx,
		`SELECT COUNT(*) FROM secrets s WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, classify(err)
	}
	if q.Offset >= total {
		return nil, total, nil
	}
	page := pageClause(&args, q.Offset, q.Limit)
	rows, err := t.tx.Query(ctx, `SELECT `+secretColumns+` FROM secrets s
WHERE `+where+` ORDER BY `+order+page, args...)
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
// adding their arguments to args. q.ProjectIDs is not empty.
func secretConditions(q storage.SecretQuery, args *params) string {
	where := []string{"s.project_id = ANY(" + args.add(q.ProjectIDs) + ")"}
	if q.Name != "" {
		where = append(where, "s.name = "+args.add(q.Name))
	}
	if q.Path != "" {
		where = append(where, "s.path = "+args.add(q.Path))
	}
	if q.PathPrefix != "" {
		// The folder itself, and what lies below it: paths that start with
		// folder+"/", which in byte order are those from folder+"/" up to,
		// not including, folder+"0" ('0' follows '/'). A range keeps the
		// condition on the (project_id, path, name) index.
		folder := strings.TrimSuffix(q.PathPrefix, "/")
		if folder == "" {
			where = append(where, "s.path >= '/' AND s.path < '0'") // the root holds every path
		} else {
			where = append(where, "(s.path = "+args.add(folder)+" OR (s.path >= "+args.add(folder+"/")+
				" AND s.path < "+args.add(folder+"0")+"))")
		}
	}
	if len(q.PathPrefixes) > 0 && !slices.ContainsFunc(q.PathPrefixes, isRoot) {
		var alts []string
		for _, p := range q.PathPrefixes {
			folder := strings.TrimSuffix(p, "/")
			alts = append(alts, "s.path = "+args.add(folder)+" OR (s.path >= "+args.add(folder+"/")+
				" AND s.path < "+args.add(folder+"0")+")")
		}
		where = append(where, "("+strings.Join(alts, " OR ")+")")
	}
	for _, tag := range q.Tags {
		where = append(where, "EXISTS (SELECT 1 FROM secret_tags st WHERE st.secret_id = s.id AND st.tag = "+args.add(tag)+")")
	}
	if q.Type != "" {
		where = append(where, "s.type = "+args.add(string(q.Type)))
	}
	if q.Ephemeral != nil {
		if *q.Ephemeral {
			where = append(where, "s.ephemeral IS NOT NULL")
		} else {
			where = append(where, "s.ephemeral IS NULL")
		}
	}
	if q.ScheduledForDeletion != nil {
		if *q.ScheduledForDeletion {
			where = append(where, "s.state = "+args.add(string(coffer.SecretDeletionScheduled)))
		} else {
			where = append(where, "s.state <> "+args.add(string(coffer.SecretDeletionScheduled)))
		}
	}
	return strings.Join(where, " AND ")
}

// ListTags returns one page of the distinct tags of a project's secrets in
// byte order, and their number.
func (t *tx) ListTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error) {
	tags, n, err := t.listTags(ctx, projectID, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list tags of project %s: %w", projectID, err)
	}
	return tags, n, nil
}

func (t *tx) listTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error) {
	if err := checkPage(offset, limit); err != nil {
		return nil, 0, err
	}
	var total int
	if err := t.tx.QueryRow(ctx,
		`SELECT COUNT(DISTINCT tag) FROM secret_tags WHERE project_id = $1`, projectID).Scan(&total); err != nil {
		return nil, 0, classify(err)
	}
	if offset >= total {
		return nil, total, nil
	}
	args := params{projectID}
	page := pageClause(&args, offset, limit)
	rows, err := t.tx.Query(ctx, `SELECT DISTINCT tag FROM secret_tags WHERE project_id = $1
ORDER BY tag`+page, args...)
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
	rows, err := t.tx.Query(ctx,
		`SELECT DISTINCT type FROM secrets WHERE project_id = $1 ORDER BY type`, projectID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list secret types of project %s: %w", projectID, classify(err))
	}
	types, err := collect(rows, func(row scanner) (coffer.SecretType, error) {
		s, err := scanString(row)
		return coffer.SecretType(s), err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list secret types of project %s: %w", projectID, classify(err))
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
// arguments to args. A limit of 0 means none.
func pageClause(args *params, offset, limit int) string {
	clause := ""
	if limit > 0 {
		clause += " LIMIT " + args.add(int64(limit))
	}
	if offset > 0 {
		clause += " OFFSET " + args.add(int64(offset))
	}
	return clause
}

// scanString reads one text column.
func scanString(row scanner) (string, error) {
	var s string
	return s, row.Scan(&s)
}

// isRoot reports whether a path prefix is the root, which holds every path.
func isRoot(prefix string) bool { return strings.TrimSuffix(prefix, "/") == "" }
