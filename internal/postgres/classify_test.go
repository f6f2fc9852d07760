package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coffer-dev/coffer/internal/storage"
)

// TestClassify checks that driver errors are classified by SQLSTATE, whatever
// their message, and keep the driver error in the chain.
func TestClassify(t *testing.T) {
	pgErr := func(code string) error {
		return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code, Message: "duplicate key value violates unique constraint"})
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"no rows", pgx.ErrNoRows, storage.ErrNotFound},
		{"unique", pgErr("23505"), storage.ErrConflict},
		{"foreign key", pgErr("23503"), storage.ErrConflict},
		{"serialization", pgErr("40001"), storage.ErrConflict},
		{"deadlock", pgErr("40P01"), storage.ErrConflict},
		{"disk full", pgErr("53100"), storage.ErrFull},
		{"other code, conflict-like message", pgErr("22001"), nil},
		{"not a server error", errors.New("duplicate key value violates unique constraint"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err)
			if !errors.Is(got, tt.err) {
				t.Errorf("classify(%v) = %v: the driver error left the chain", tt.err, got)
			}
			for _, e := range []error{storage.ErrNotFound, storage.ErrConflict, storage.ErrFull} {
				if errors.Is(got, e) != (e == tt.want) {
					t.Errorf("classify(%v) = %v; want it to be %v", tt.err, got, tt.want)
				}
			}
		})
	}
	if classify(nil) != nil {
		t.Error("classify(nil) is not nil")
	}
}
