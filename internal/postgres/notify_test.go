package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/postgres/pgtest"
	"github.com/coffer-dev/coffer/internal/storage"
)

// TestNotify checks that a change committed through one store reaches the
// listener of another on the same schema, after a reset; that a rolled back
// change never does; and that another schema's changes stay there.
func TestNotify(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	ctx := t.Context()
	open := func(dsn string) *postgres.DB {
		db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	listener, writer, elsewhere := open(dsn), open(dsn), open(pgtest.NewSchema(t))

	changes := make(chan storage.Change, 16)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- listener.Listen(lctx, func(c storage.Change) { changes <- c }) }()
	defer func() {
		stop()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v, want context.Canceled", err)
		}
	}()
	next := func() storage.Change {
		t.Helper()
		select {
		case c := <-changes:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no change arrived")
			return storage.Change{}
		}
	}
	if c := next(); c.Kind != storage.ChangeReset {
		t.Fatalf("first change = %+v, want a reset", c)
	}

	notify := func(db *postgres.DB, c storage.Change, fail error) {
		t.Helper()
		err := db.Update(ctx, func(tx storage.Tx) error {
			if err := tx.(storage.NotifyTx).Notify(ctx, c); err != nil {
				return err
			}
			return fail
		})
		if !errors.Is(err, fail) {
			t.Fatalf("Update: %v", err)
		}
	}
	errRollback := errors.New("roll back")
	notify(writer, storage.Change{Kind: storage.ChangeAPIKey, ID: "rolled-back"}, errRollback)
	notify(elsewhere, storage.Change{Kind: storage.ChangeAPIKey, ID: "other-schema"}, nil)
	notify(writer, storage.Change{Kind: storage.ChangeAPIKey, ID: "SCWAAAAAAAAAAAAAAAAA"}, nil)
	if c := next(); c != (storage.Change{Kind: storage.ChangeAPIKey, ID: "SCWAAAAAAAAAAAAAAAAA"}) {
		t.Errorf("change = %+v, want the committed one only", c)
	}
}
