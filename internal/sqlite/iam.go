package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.IAMTx = (*tx)(nil)

// policyColumns are the columns scanPolicy reads.
const policyColumns = `id, organization_id, principal_id, project_id, path_prefix, permission_sets, created_at`

// scanPolicy reads the policyColumns of one row.
func scanPolicy(row scanner) (*coffer.Policy, error) {
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

func scanPrincipal(row scanner) (*coffer.Principal, error) {
	var p coffer.Principal
	var createdAt int64
	if err := row.Scan(&p.ID, &p.OrganizationID, &p.Kind, &p.Name, &p.Admin, &createdAt); err != nil {
		return nil, err
	}
	p.CreatedAt = getTime(createdAt)
	return &p, nil
}

// ListPrincipals returns an organization's principals ordered by name, then id.
func (t *tx) ListPrincipals(ctx context.Context, organizationID string) ([]*coffer.Principal, error) {
	rows, err := t.query(ctx, `SELECT id, organization_id, kind, name, admin, created_at
FROM principals WHERE organization_id = ? ORDER BY name, id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list principals: %w", classify(err))
	}
	ps, err := collect(rows, scanPrincipal)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list principals: %w", classify(err))
	}
	return ps, nil
}

// DeletePrincipal removes a principal with its API keys, client
// certificates and policies. Returns ErrNotFound.
func (t *tx) DeletePrincipal(ctx context.Context, id string) error {
	for _, q := range []string{
		`DELETE FROM policies WHERE principal_id = ?`,
		`DELETE FROM api_keys WHERE principal_id = ?`,
		`DELETE FROM certificates WHERE principal_id = ?`,
	} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return fmt.Errorf("sqlite: delete principal %s: %w", id, classify(err))
		}
	}
	res, err := t.exec(ctx, `DELETE FROM principals WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(res, "principal")
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete principal %s: %w", id, classify(err))
	}
	return nil
}

// ListAPIKeys returns an organization's keys, or a principal's.
func (t *tx) ListAPIKeys(ctx context.Context, organizationID, principalID string) ([]*storage.APIKey, error) {
	rows, err := t.query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
WHERE organization_id = ? AND (? = '' OR principal_id = ?) ORDER BY created_at, access_key`,
		organizationID, principalID, principalID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list API keys: %w", classify(err))
	}
	ks, err := collect(rows, scanAPIKey)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list API keys: %w", classify(err))
	}
	return ks, nil
}

// DeleteAPIKey returns ErrNotFound.
func (t *tx) DeleteAPIKey(ctx context.Context, accessKey string) error {
	res, err := t.exec(ctx, `DELETE FROM api_keys WHERE access_key = ?`, accessKey)
	if err == nil {
		err = mustAffect(res, "API key")
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete API key %s: %w", accessKey, classify(err))
	}
	return nil
}

// CreatePolicy returns ErrConflict for a taken id or a missing principal.
func (t *tx) CreatePolicy(ctx context.Context, p *coffer.Policy) error {
	_, err := t.exec(ctx, `INSERT INTO policies (`+policyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrganizationID, p.PrincipalID, p.ProjectID, p.PathPrefix,
		joinPermissionSets(p.PermissionSets), putTime(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create policy %s: %w", p.ID, classify(err))
	}
	return nil
}

// GetPolicy returns ErrNotFound.
func (t *tx) GetPolicy(ctx context.Context, id string) (*coffer.Policy, error) {
	p, err := scanPolicy(t.queryRow(ctx, `SELECT `+policyColumns+` FROM policies WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get policy %s: %w", id, classify(err))
	}
	return p, nil
}

// ListPolicies returns an organization's policies, or a principal's.
func (t *tx) ListPolicies(ctx context.Context, organizationID, principalID string) ([]*coffer.Policy, error) {
	rows, err := t.query(ctx, `SELECT `+policyColumns+` FROM policies
WHERE organization_id = ? AND (? = '' OR principal_id = ?) ORDER BY created_at, id`,
		organizationID, principalID, principalID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list policies: %w", classify(err))
	}
	ps, err := collect(rows, scanPolicy)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list policies: %w", classify(err))
	}
	return ps, nil
}

// DeletePolicy returns ErrNotFound.
func (t *tx) DeletePolicy(ctx context.Context, id string) error {
	res, err := t.exec(ctx, `DELETE FROM policies WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(res, "policy")
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete policy %s: %w", id, classify(err))
	}
	return nil
}
