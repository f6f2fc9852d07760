package sqlstore

import (
	"context"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.IAMTx = (*Tx)(nil)

// policyColumns are the columns scanPolicy reads.
const policyColumns = `id, organization_id, principal_id, project_id, path_prefix, permission_sets, created_at`

// scanPolicy reads the policyColumns of one row.
func scanPolicy(row Row) (*coffer.Policy, error) {
	var p coffer.Policy
	var sets string
	var createdAt int64
	if err := row.Scan(&p.ID, &p.OrganizationID, &p.PrincipalID, &p.ProjectID, &p.PathPrefix, &sets, &createdAt); err != nil {
		return nil, err
	}
	p.PermissionSets = splitPermissionSets(sets)
	p.CreatedAt = getTime(createdAt)
	return &p, nil
}

// joinPermissionSets and splitPermissionSets store permission sets as one
// comma-separated column: their names hold no comma.
func joinPermissionSets(sets []coffer.PermissionSet) string {
	s := make([]string, len(sets))
	for i, p := range sets {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

func splitPermissionSets(s string) []coffer.PermissionSet {
	if s == "" {
		return nil
	}
	var out []coffer.PermissionSet
	for p := range strings.SplitSeq(s, ",") {
		out = append(out, coffer.PermissionSet(p))
	}
	return out
}

// ListPrincipals returns an organization's principals ordered by name, then id.
func (t *Tx) ListPrincipals(ctx context.Context, organizationID string) ([]*coffer.Principal, error) {
	rows, err := t.query(ctx, `SELECT `+principalColumns+`
FROM principals WHERE organization_id = ? ORDER BY name, id`, organizationID)
	if err != nil {
		return nil, t.errorf("list principals: %w", t.classify(err))
	}
	ps, err := collect(rows, scanPrincipal)
	if err != nil {
		return nil, t.errorf("list principals: %w", t.classify(err))
	}
	return ps, nil
}

// DeletePrincipal removes a principal with its API keys, client
// certificates and policies. Returns ErrNotFound.
func (t *Tx) DeletePrincipal(ctx context.Context, id string) error {
	for _, q := range []string{
		`DELETE FROM policies WHERE principal_id = ?`,
		`DELETE FROM api_keys WHERE principal_id = ?`,
		`DELETE FROM certificates WHERE principal_id = ?`,
	} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return t.errorf("delete principal %s: %w", id, t.classify(err))
		}
	}
	n, err := t.exec(ctx, `DELETE FROM principals WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(n, "principal")
	}
	if err != nil {
		return t.errorf("delete principal %s: %w", id, t.classify(err))
	}
	return nil
}

// ListAPIKeys returns an organization's keys, or a principal's.
func (t *Tx) ListAPIKeys(ctx context.Context, organizationID, principalID string) ([]*storage.APIKey, error) {
	rows, err := t.query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
WHERE organization_id = ? AND (? = '' OR principal_id = ?) ORDER BY created_at, access_key`,
		organizationID, principalID, principalID)
	if err != nil {
		return nil, t.errorf("list API keys: %w", t.classify(err))
	}
	ks, err := collect(rows, scanAPIKey)
	if err != nil {
		return nil, t.errorf("list API keys: %w", t.classify(err))
	}
	return ks, nil
}

// DeleteAPIKey returns ErrNotFound.
func (t *Tx) DeleteAPIKey(ctx context.Context, accessKey string) error {
	n, err := t.exec(ctx, `DELETE FROM api_keys WHERE access_key = ?`, accessKey)
	if err == nil {
		err = mustAffect(n, "API key")
	}
	if err != nil {
		return t.errorf("delete API key %s: %w", accessKey, t.classify(err))
	}
	return nil
}

// CreatePolicy returns ErrConflict for a taken id or a missing principal.
func (t *Tx) CreatePolicy(ctx context.Context, p *coffer.Policy) error {
	_, err := t.exec(ctx, `INSERT INTO policies (`+policyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrganizationID, p.PrincipalID, p.ProjectID, p.PathPrefix,
		joinPermissionSets(p.PermissionSets), putTime(p.CreatedAt))
	if err != nil {
		return t.errorf("create policy %s: %w", p.ID, t.classify(err))
	}
	return nil
}

// GetPolicy returns ErrNotFound.
func (t *Tx) GetPolicy(ctx context.Context, id string) (*coffer.Policy, error) {
	p, err := scanPolicy(t.queryRow(ctx, `SELECT `+policyColumns+` FROM policies WHERE id = ?`, id))
	if err != nil {
		return nil, t.errorf("get policy %s: %w", id, t.classify(err))
	}
	return p, nil
}

// ListPolicies returns an organization's policies, or a principal's.
func (t *Tx) ListPolicies(ctx context.Context, organizationID, principalID string) ([]*coffer.Policy, error) {
	rows, err := t.query(ctx, `SELECT `+policyColumns+` FROM policies
WHERE organization_id = ? AND (? = '' OR principal_id = ?) ORDER BY created_at, id`,
		organizationID, principalID, principalID)
	if err != nil {
		return nil, t.errorf("list policies: %w", t.classify(err))
	}
	ps, err := collect(rows, scanPolicy)
	if err != nil {
		return nil, t.errorf("list policies: %w", t.classify(err))
	}
	return ps, nil
}

// DeletePolicy returns ErrNotFound.
func (t *Tx) DeletePolicy(ctx context.Context, id string) error {
	n, err := t.exec(ctx, `DELETE FROM policies WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(n, "policy")
	}
	if err != nil {
		return t.errorf("delete policy %s: %w", id, t.classify(err))
	}
	return nil
}
