package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var (
	_ storage.Notifier = (*DB)(nil)
	_ storage.NotifyTx = (*tx)(nil)
)

// changesChannel is the channel of LISTEN/NOTIFY that carries changes.
// Channels are per database, not per schema: a payload names its schema, and
// a listener keeps its own schema's.
const changesChannel = "coffer_changes"

// changePayload is the JSON payload of a change notification.
type changePayload struct {
	Schema string `json:"schema"`
	Kind   string `json:"kind"`
	ID     string `json:"id"`
}

// Notify publishes c on commit: PostgreSQL delivers the notifications of a
// transaction when it commits, and drops them when it rolls back.
func (t *tx) Notify(ctx context.Context, c storage.Change) error {
	_, err := t.tx.Exec(ctx, `SELECT pg_notify($1, json_build_object(
	'schema', COALESCE(current_schema(), ''), 'kind', $2::text, 'id', $3::text)::text)`,
		changesChannel, c.Kind, c.ID)
	if err != nil {
		return fmt.Errorf("postgres: notify %s %s: %w", c.Kind, c.ID, classify(err))
	}
	return nil
}

// notifySecretsSQL publishes one ChangeSecret per id of an array, in one
// statement. PostgreSQL folds identical notifications of one transaction.
const notifySecretsSQL = `SELECT pg_notify($1, json_build_object(
	'schema', COALESCE(current_schema(), ''), 'kind', $2::text, 'id', id)::text)
FROM unnest($3::text[]) AS id`

// The writes of secrets and versions note the secret, so that the
// transaction publishes it when it commits: every node's read cache then
// drops it, whatever code wrote (internal/storage/cache).

// CreateSecret is sqlstore's, noted.
func (t *tx) CreateSecret(ctx context.Context, s *coffer.Secret) error {
	t.note(s.ID)
	return t.Tx.CreateSecret(ctx, s)
}

// UpdateSecret is sqlstore's, noted.
func (t *tx) UpdateSecret(ctx context.Context, s *coffer.Secret) error {
	t.note(s.ID)
	return t.Tx.UpdateSecret(ctx, s)
}

// DeleteSecret is sqlstore's, noted.
func (t *tx) DeleteSecret(ctx context.Context, id string) error {
	t.note(id)
	return t.Tx.DeleteSecret(ctx, id)
}

// CreateVersion is sqlstore's, noted.
func (t *tx) CreateVersion(ctx context.Context, v *storage.Version) error {
	t.note(v.SecretID)
	return t.Tx.CreateVersion(ctx, v)
}

// UpdateVersion is sqlstore's, noted.
func (t *tx) UpdateVersion(ctx context.Context, v *storage.Version) error {
	t.note(v.SecretID)
	return t.Tx.UpdateVersion(ctx, v)
}

// DeleteVersion is sqlstore's, noted.
func (t *tx) DeleteVersion(ctx context.Context, secretID string, revision uint32) error {
	t.note(secretID)
	return t.Tx.DeleteVersion(ctx, secretID, revision)
}

// note records that the transaction writes secret id.
func (t *tx) note(id string) {
	if !t.write {
		return
	}
	if t.written == nil {
		t.written = map[string]struct{}{}
	}
	t.written[id] = struct{}{}
}

// publishWritten publishes a ChangeSecret for each secret written, before
// the commit that delivers them.
func (t *tx) publishWritten(ctx context.Context) error {
	if len(t.written) == 0 {
		return nil
	}
	ids := slices.Collect(maps.Keys(t.written))
	if _, err := t.tx.Exec(ctx, notifySecretsSQL, changesChannel, storage.ChangeSecret, ids); err != nil {
		return fmt.Errorf("postgres: notify %d written secrets: %w", len(t.written), classify(err))
	}
	return nil
}

// listenRetry bounds the wait between two attempts to listen again after
// losing the database.
const listenRetry = 5 * time.Second

// Listen calls fn with each change committed in this store's schema, on a
// connection of its own, outside the pool, until ctx ends. When that
// connection fails it connects again, and tells fn ChangeReset each time it
// listens anew, since changes may have been missed meanwhile.
func (db *DB) Listen(ctx context.Context, fn func(storage.Change)) error {
	wait := 100 * time.Millisecond
	for {
		err := db.listenOnce(ctx, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// What was cached may now be stale: the next successful listen
		// says so with ChangeReset.
		db.log.Warn("postgres: listening for changes of other nodes failed; retrying", "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetry)
	}
}

// listenOnce listens on one connection until it fails or ctx ends.
func (db *DB) listenOnce(ctx context.Context, fn func(storage.Change)) error {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	var schema string
	if err := conn.QueryRow(ctx, `SELECT COALESCE(current_schema(), '')`).Scan(&schema); err != nil {
		return err
	}
	fn(storage.Change{Kind: storage.ChangeReset})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var p changePayload
		if json.Unmarshal([]byte(n.Payload), &p) != nil || p.Schema != schema {
			continue // another schema's, or not coffer's
		}
		fn(storage.Change{Kind: p.Kind, ID: p.ID})
	}
}

// RewrapVersionData is sqlstore's, noted.
func (t *tx) RewrapVersionData(ctx context.Context, secretID string, revision uint32, old, data []byte) error {
	t.note(secretID)
	return t.Tx.RewrapVersionData(ctx, secretID, revision, old, data)
}
