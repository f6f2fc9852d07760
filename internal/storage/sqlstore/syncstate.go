package sqlstore

import (
	"context"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var _ storage.SyncStateTx = (*Tx)(nil)

// CountSyncStates counts key vaults and deployments by state: one
// aggregate over each table.
func (t *Tx) CountSyncStates(ctx context.Context) (storage.SyncStates, error) {
	out := storage.SyncStates{KeyVaults: map[coffer.DeployState]int{}, Deployments: map[coffer.DeployState]int{}}
	for _, q := range []struct {
		table string
		into  map[coffer.DeployState]int
	}{{"key_vaults", out.KeyVaults}, {"deployments", out.Deployments}} {
		rows, err := t.query(ctx, `SELECT state, COUNT(*) FROM `+q.table+` GROUP BY state`)
		if err != nil {
			return out, t.errorf("count %s by state: %w", q.table, t.classify(err))
		}
		type count struct {
			state string
			n     int
		}
		counts, err := collect(rows, func(r Row) (count, error) {
			var c count
			return c, r.Scan(&c.state, &c.n)
		})
		if err != nil {
			return out, t.errorf("count %s by state: %w", q.table, t.classify(err))
		}
		for _, c := range counts {
			q.into[coffer.DeployState(c.state)] = c.n
		}
	}
	return out, nil
}
