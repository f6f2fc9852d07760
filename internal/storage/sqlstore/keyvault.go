package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.KeyVaultTx = (*Tx)(nil)

// keyVaultColumns are the columns scanKeyVault reads.
const keyVaultColumns = `id, project_id, name, path, target, credential, credential IS NULL, state, remote_id,
brownfield, label_ids, last_error, created_at, updated_at`

// targetJSON is the target column: a target's public settings.
type targetJSON struct {
	Kind      coffer.TargetKind `json:"kind"`
	Address   string            `json:"address,omitempty"`
	Mount     string            `json:"mount,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
	Project   string            `json:"project,omitempty"`
	Region    string            `json:"region,omitempty"`
	OKMSID    string            `json:"okms_id,omitempty"`
	AccessKey string            `json:"access_key,omitempty"`
	CA        string            `json:"ca_certificate,omitempty"`
}

func putTarget(t coffer.Target) (string, error) {
	b, err := json.Marshal(targetJSON{Kind: t.Kind, Address: t.Address, Mount: t.Mount,
		Namespace: t.Namespace, Project: t.Project, Region: t.Region, OKMSID: t.OKMSID, AccessKey: t.AccessKey, CA: t.CACertificate})
	return string(b), err
}

func getTarget(s string) (coffer.Target, error) {
	var j targetJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return coffer.Target{}, fmt.Errorf("target column: %w", err)
	}
	return coffer.Target{Kind: j.Kind, Address: j.Address, Mount: j.Mount,
		Namespace: j.Namespace, Project: j.Project, Region: j.Region, OKMSID: j.OKMSID, AccessKey: j.AccessKey, CACertificate: j.CA}, nil
}

// putIDs encodes a list of ids as a JSON array, never NULL.
func putIDs(ids []string) (string, error) {
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(ids)
	return string(b), err
}

// getIDs decodes putIDs' column; an empty list is nil.
func getIDs(s string) ([]string, error) {
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, fmt.Errorf("label_ids column: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

func scanKeyVault(row Row) (*storage.KeyVault, error) {
	var (
		v                storage.KeyVault
		target, labels   string
		state            string
		cred             []byte
		credNull         bool
		created, updated int64
	)
	err := row.Scan(&v.ID, &v.ProjectID, &v.Name, &v.Path, &target, &cred, &credNull, &state, &v.RemoteID,
		&v.Brownfield, &labels, &v.LastError, &created, &updated)
	if err != nil {
		return nil, err
	}
	if v.Target, err = getTarget(target); err != nil {
		return nil, err
	}
	if v.LabelIDs, err = getIDs(labels); err != nil {
		return nil, err
	}
	v.State = coffer.DeployState(state)
	v.SealedCredential = getNullBytes(cred, credNull)
	v.CreatedAt, v.UpdatedAt = getTime(created), getTime(updated)
	return &v, nil
}

// keyVaultArgs returns the columns of v after its id and project, in the
// order of keyVaultColumns.
func keyVaultArgs(v *storage.KeyVault) ([]any, error) {
	target, err := putTarget(v.Target)
	if err != nil {
		return nil, err
	}
	labels, err := putIDs(v.LabelIDs)
	if err != nil {
		return nil, err
	}
	var cred any
	if v.SealedCredential != nil {
		cred = putBytes(v.SealedCredential)
	}
	return []any{v.Name, v.Path, target, cred, string(v.State), v.RemoteID, v.Brownfield, labels, v.LastError}, nil
}

// CreateKeyVault returns ErrConflict for a taken id, name or path.
func (t *Tx) CreateKeyVault(ctx context.Context, v *storage.KeyVault) error {
	args, err := keyVaultArgs(v)
	if err != nil {
		return t.errorf("create key vault %s: %w", v.ID, err)
	}
	args = append(append([]any{v.ID, v.ProjectID}, args...), putTime(v.CreatedAt), putTime(v.UpdatedAt))
	_, err = t.exec(ctx, `INSERT INTO key_vaults (id, project_id, name, path, target, credential, state, remote_id,
brownfield, label_ids, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return t.errorf("create key vault %s: %w", v.ID, t.classify(err))
	}
	return nil
}

// GetKeyVault returns ErrNotFound.
func (t *Tx) GetKeyVault(ctx context.Context, id string) (*storage.KeyVault, error) {
	v, err := scanKeyVault(t.queryRow(ctx, `SELECT `+keyVaultColumns+` FROM key_vaults WHERE id = ?`, id))
	if err != nil {
		return nil, t.errorf("get key vault %s: %w", id, t.classify(err))
	}
	return v, nil
}

// GetKeyVaultByPath returns ErrNotFound.
func (t *Tx) GetKeyVaultByPath(ctx context.Context, projectID, path string) (*storage.KeyVault, error) {
	v, err := scanKeyVault(t.queryRow(ctx, `SELECT `+keyVaultColumns+` FROM key_vaults
WHERE project_id = ? AND path = ?`, projectID, path))
	if err != nil {
		return nil, t.errorf("get key vault at %s: %w", path, t.classify(err))
	}
	return v, nil
}

// UpdateKeyVault returns ErrNotFound, ErrConflict.
func (t *Tx) UpdateKeyVault(ctx context.Context, v *storage.KeyVault) error {
	args, err := keyVaultArgs(v)
	if err != nil {
		return t.errorf("update key vault %s: %w", v.ID, err)
	}
	args = append(args, putTime(v.UpdatedAt), v.ID)
	n, err := t.exec(ctx, `UPDATE key_vaults SET name = ?, path = ?, target = ?, credential = ?, state = ?,
remote_id = ?, brownfield = ?, label_ids = ?, last_error = ?, updated_at = ? WHERE id = ?`, args...)
	if err == nil {
		err = mustAffect(n, "key vault")
	}
	if err != nil {
		return t.errorf("update key vault %s: %w", v.ID, t.classify(err))
	}
	return nil
}

// DeleteKeyVault returns ErrNotFound.
func (t *Tx) DeleteKeyVault(ctx context.Context, id string) error {
	n, err := t.exec(ctx, `DELETE FROM key_vaults WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(n, "key vault")
	}
	if err != nil {
		return t.errorf("delete key vault %s: %w", id, t.classify(err))
	}
	return nil
}

// ListKeyVaults returns the vaults of some projects, or of all.
func (t *Tx) ListKeyVaults(ctx context.Context, projectIDs []string) ([]*storage.KeyVault, error) {
	if projectIDs != nil && len(projectIDs) == 0 {
		return nil, nil
	}
	q := `SELECT ` + keyVaultColumns + ` FROM key_vaults`
	var args []any
	if projectIDs != nil {
		q += ` WHERE ` + t.inList("project_id", projectIDs, &args)
	}
	rows, err := t.queryBuilt(ctx, q+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, t.errorf("list key vaults: %w", t.classify(err))
	}
	vs, err := collect(rows, scanKeyVault)
	if err != nil {
		return nil, t.errorf("list key vaults: %w", t.classify(err))
	}
	return vs, nil
}

const deploymentColumns = `secret_id, key_vault_id, project_id, state, remote_id, desired_remote_id, brownfield,
label_ids, pushed_revision, attempts, next_attempt_at, last_error, created_at, updated_at`

func scanDeployment(row Row) (*coffer.Deployment, error) {
	var (
		d                coffer.Deployment
		state, labels    string
		pushed           int64
		next             sql.NullInt64
		created, updated int64
	)
	err := row.Scan(&d.SecretID, &d.KeyVaultID, &d.ProjectID, &state, &d.RemoteID, &d.DesiredRemoteID, &d.Brownfield,
		&labels, &pushed, &d.Attempts, &next, &d.LastError, &created, &updated)
	if err != nil {
		return nil, err
	}
	if d.LabelIDs, err = getIDs(labels); err != nil {
		return nil, err
	}
	if d.PushedRevision, err = getUint32(pushed); err != nil {
		return nil, err
	}
	d.State = coffer.DeployState(state)
	d.NextAttemptAt = getTimePtr(next)
	d.CreatedAt, d.UpdatedAt = getTime(created), getTime(updated)
	return &d, nil
}

// PutDeployment creates or replaces the deployment of a secret.
func (t *Tx) PutDeployment(ctx context.Context, d *coffer.Deployment) error {
	labels, err := putIDs(d.LabelIDs)
	if err != nil {
		return t.errorf("put deployment %s: %w", d.SecretID, err)
	}
	_, err = t.exec(ctx, `INSERT INTO deployments (`+deploymentColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (secret_id) DO UPDATE SET key_vault_id = excluded.key_vault_id, project_id = excluded.project_id,
state = excluded.state, remote_id = excluded.remote_id, desired_remote_id = excluded.desired_remote_id,
brownfield = excluded.brownfield, label_ids = excluded.label_ids, pushed_revision = excluded.pushed_revision,
attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error,
updated_at = excluded.updated_at`,
		d.SecretID, d.KeyVaultID, d.ProjectID, string(d.State), d.RemoteID, d.DesiredRemoteID, d.Brownfield,
		labels, int64(d.PushedRevision), d.Attempts, putTimePtr(d.NextAttemptAt), d.LastError,
		putTime(d.CreatedAt), putTime(d.UpdatedAt))
	if err != nil {
		return t.errorf("put deployment %s: %w", d.SecretID, t.classify(err))
	}
	return nil
}

// GetDeployment returns ErrNotFound.
func (t *Tx) GetDeployment(ctx context.Context, secretID string) (*coffer.Deployment, error) {
	d, err := scanDeployment(t.queryRow(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE secret_id = ?`, secretID))
	if err != nil {
		return nil, t.errorf("get deployment %s: %w", secretID, t.classify(err))
	}
	return d, nil
}

// ListDeployments returns the deployments of a vault, by secret id.
func (t *Tx) ListDeployments(ctx context.Context, keyVaultID string) ([]*coffer.Deployment, error) {
	rows, err := t.query(ctx, `SELECT `+deploymentColumns+` FROM deployments
WHERE key_vault_id = ? ORDER BY secret_id`, keyVaultID)
	if err != nil {
		return nil, t.errorf("list deployments: %w", t.classify(err))
	}
	ds, err := collect(rows, scanDeployment)
	if err != nil {
		return nil, t.errorf("list deployments: %w", t.classify(err))
	}
	return ds, nil
}

// DeleteDeployment returns ErrNotFound.
func (t *Tx) DeleteDeployment(ctx context.Context, secretID string) error {
	n, err := t.exec(ctx, `DELETE FROM deployments WHERE secret_id = ?`, secretID)
	if err == nil {
		err = mustAffect(n, "deployment")
	}
	if err != nil {
		return t.errorf("delete deployment %s: %w", secretID, t.classify(err))
	}
	return nil
}

const labelColumns = `id, organization_id, name, created_at`

func scanLabel(row Row) (*coffer.Label, error) {
	var (
		l       coffer.Label
		created int64
	)
	if err := row.Scan(&l.ID, &l.OrganizationID, &l.Name, &created); err != nil {
		return nil, err
	}
	l.CreatedAt = getTime(created)
	return &l, nil
}

// CreateLabel returns ErrConflict for a taken id or name.
func (t *Tx) CreateLabel(ctx context.Context, l *coffer.Label) error {
	_, err := t.exec(ctx, `INSERT INTO labels (`+labelColumns+`) VALUES (?, ?, ?, ?)`,
		l.ID, l.OrganizationID, l.Name, putTime(l.CreatedAt))
	if err != nil {
		return t.errorf("create label %s: %w", l.ID, t.classify(err))
	}
	return nil
}

// GetLabel returns ErrNotFound.
func (t *Tx) GetLabel(ctx context.Context, id string) (*coffer.Label, error) {
	l, err := scanLabel(t.queryRow(ctx, `SELECT `+labelColumns+` FROM labels WHERE id = ?`, id))
	if err != nil {
		return nil, t.errorf("get label %s: %w", id, t.classify(err))
	}
	return l, nil
}

// ListLabels returns an organization's labels ordered by name.
func (t *Tx) ListLabels(ctx context.Context, organizationID string) ([]*coffer.Label, error) {
	rows, err := t.query(ctx, `SELECT `+labelColumns+` FROM labels WHERE organization_id = ? ORDER BY name, id`, organizationID)
	if err != nil {
		return nil, t.errorf("list labels: %w", t.classify(err))
	}
	ls, err := collect(rows, scanLabel)
	if err != nil {
		return nil, t.errorf("list labels: %w", t.classify(err))
	}
	return ls, nil
}
