package sqlstore_test

import (
	"testing"

	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
)

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		``:                                   ``,
		`SELECT 1`:                           `SELECT 1`,
		`a = ? AND b IN (?, ?)`:              `a = $1 AND b IN ($2, $3)`,
		`x = '?' AND y = ?`:                  `x = '?' AND y = $1`,
		`x = 'it''s ?' AND "c?" = ? LIMIT ?`: `x = 'it''s ?' AND "c?" = $1 LIMIT $2`,
		`unnest(?::text[])`:                  `unnest($1::text[])`,
	} {
		if got := sqlstore.Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
