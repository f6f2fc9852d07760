package sqlstore

import (
	"context"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.RotationTx = (*Tx)(nil)

// triggerColumns are the columns scanTrigger reads.
const triggerColumns = `id, project_id, name, url, sealed_secret, created_at`

func scanTrigger(row Row) (*storage.Trigger, error) {
	var (
		tr      storage.Trigger
		created int64
	)
	if err := row.Scan(&tr.ID, &tr.ProjectID, &tr.Name, &tr.URL, &tr.SealedSecret, &created); err != nil {
		return nil, err
	}
	tr.CreatedAt = getTime(created)
	return &tr, nil
}

// CreateTrigger returns ErrConflict for a taken id or (project, name).
func (t *Tx) CreateTrigger(ctx context.Context, tr *storage.Trigger) error {
	_, err := t.exec(ctx, `INSERT INTO triggers (`+triggerColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		tr.ID, tr.ProjectID, tr.Name, tr.URL, tr.SealedSecret, putTime(tr.CreatedAt))
	if err != nil {
		return t.errorf("create trigger %s: %w", tr.ID, t.classify(err))
	}
	return nil
}

// GetTrigger returns ErrNotFound.
func (t *Tx) GetTrigger(ctx context.Context, id string) (*storage.Trigger, error) {
	tr, err := scanTrigger(t.queryRow(ctx, `SELECT `+triggerColumns+` FROM triggers WHERE id = ?`, id))
	if err != nil {
		return nil, t.errorf("get trigger %s: %w", id, t.classify(err))
	}
	return tr, nil
}

// ListTriggers returns the triggers of the projects, by project and name,
// with their linked secrets.
func (t *Tx) ListTriggers(ctx context.Context, projectIDs []string) ([]*storage.Trigger, error) {
	if len(projectIDs) == 0 {
		return nil, nil
	}
	var args []any
	rows, err := t.queryBuilt(ctx, `SELECT `+triggerColumns+` FROM triggers WHERE `+
		t.inList("project_id", projectIDs, &args)+` ORDER BY project_id, name`, args...)
	if err != nil {
		return nil, t.errorf("list triggers: %w", t.classify(err))
	}
	trs, err := collect(rows, scanTrigger)
	if err != nil {
		return nil, t.errorf("list triggers: %w", t.classify(err))
	}
	for _, tr := range trs {
		if tr.Secrets, err = t.TriggerSecrets(ctx, tr.ID); err != nil {
			return nil, err
		}
	}
	return trs, nil
}

// DeleteTrigger returns ErrNotFound.
func (t *Tx) DeleteTrigger(ctx context.Context, id string) error {
	n, err := t.exec(ctx, `DELETE FROM triggers WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(n, "trigger")
	}
	if err != nil {
		return t.errorf("delete trigger %s: %w", id, t.classify(err))
	}
	return nil
}

// TriggerSecrets returns the ids of the secrets linked to a trigger.
func (t *Tx) TriggerSecrets(ctx context.Context, triggerID string) ([]string, error) {
	rows, err := t.query(ctx, `SELECT id FROM secrets WHERE trigger_id = ? ORDER BY id`, triggerID)
	if err != nil {
		return nil, t.errorf("secrets of trigger %s: %w", triggerID, t.classify(err))
	}
	ids, err := collect(rows, func(r Row) (id string, err error) { return id, r.Scan(&id) })
	if err != nil {
		return nil, t.errorf("secrets of trigger %s: %w", triggerID, t.classify(err))
	}
	return ids, nil
}

// DueRotations returns up to limit secrets whose rotate_at is not after
// now, oldest due first; it reads the partial index secrets_rotate_at.
func (t *Tx) DueRotations(ctx context.Context, now time.Time, limit int) ([]*coffer.Secret, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := t.query(ctx, `SELECT `+secretColumns+` FROM secrets s
WHERE s.rotate_at <= ?
ORDER BY s.rotate_at, s.id
LIMIT ?`, putTime(now), int64(limit))
	if err != nil {
		return nil, t.errorf("due rotations: %w", t.classify(err))
	}
	ss, err := collect(rows, scanSecret)
	if err != nil {
		return nil, t.errorf("due rotations: %w", t.classify(err))
	}
	return ss, nil
}
