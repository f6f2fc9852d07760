package storagetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/storage"
)

// testSessions checks the optional web console sessions of a store that
// keeps them: round trip, touch only forward, delete, and the removal of
// expired sessions, idle or past their end.
func testSessions(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := newWorld(t, s)
	hash := func(token string) []byte { h := sha256.Sum256([]byte(token)); return h[:] }
	session := func(token string, seen, expires time.Time) *storage.Session {
		return &storage.Session{TokenHash: hash(token), PrincipalID: newID(), OrganizationID: w.org.ID,
			AccessKey: "SCWABCDEFGHIJKLMNOPQ", DefaultProjectID: w.project.ID,
			CreatedAt: at(0), LastSeenAt: seen, ExpiresAt: expires}
	}
	want := session("a", at(0), at(12*time.Hour))
	want.CertificateSerial, want.ProjectScope = "0a1b", w.project.ID
	err := s.Update(ctx, func(tx storage.Tx) error {
		st, ok := tx.(storage.SessionTx)
		if !ok {
			t.Skip("the store keeps no sessions")
		}
		return st.CreateSession(ctx, want)
	})
	if err != nil {
		t.Fatal(err)
	}
	updateErr(t, s, storage.ErrConflict, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.SessionTx).CreateSession(ctx, want)
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.(storage.SessionTx).GetSession(ctx, hash("nope"))
		return err
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.SessionTx).TouchSession(ctx, hash("nope"), at(time.Minute))
	})
	updateErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.SessionTx).DeleteSession(ctx, hash("nope"))
	})
	get := func(token string) *storage.Session {
		t.Helper()
		var got *storage.Session
		if err := s.View(ctx, func(tx storage.Tx) (err error) {
			got, err = tx.(storage.SessionTx).GetSession(ctx, hash(token))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if diff := cmp.Diff(want, get("a")); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	touch := func(d time.Duration) {
		update(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.(storage.SessionTx).TouchSession(ctx, hash("a"), at(d))
		})
	}
	touch(10 * time.Minute)
	touch(5 * time.Minute) // never back
	if got := get("a").LastSeenAt; !got.Equal(at(10 * time.Minute)) {
		t.Errorf("last seen %v after touches at +10m and +5m, want +10m", got)
	}

	// b is idle since +0, c past its end at +1h, d alive.
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, x := range []*storage.Session{
			session("b", at(0), at(12*time.Hour)),
			session("c", at(50*time.Minute), at(time.Hour)),
			session("d", at(55*time.Minute), at(12*time.Hour)),
		} {
			if err := tx.(storage.SessionTx).CreateSession(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	var n int
	update(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		n, err = tx.(storage.SessionTx).DeleteExpiredSessions(ctx, at(5*time.Minute), at(time.Hour), 100)
		return err
	})
	if n != 2 {
		t.Errorf("DeleteExpiredSessions removed %d sessions, want 2 (b idle, c ended)", n)
	}
	for _, gone := range []string{"b", "c"} {
		viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.(storage.SessionTx).GetSession(ctx, hash(gone))
			return err
		})
	}
	get("a")
	get("d")
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.(storage.SessionTx).DeleteSession(ctx, hash("a"))
	})
	viewErr(t, s, storage.ErrNotFound, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.(storage.SessionTx).GetSession(ctx, hash("a"))
		return err
	})
}
