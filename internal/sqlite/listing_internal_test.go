package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/coffer-dev/coffer/internal/storage/sqlstore"
)

// counter is a sqlstore.Querier that counts the rows the database hands
// over: every row scanned, and apart, the wide ones, of a secret's 27
// columns, which are the rows decoded into secrets.
type counter struct {
	q             sqlstore.Querier
	rows, secrets int
}

func (c *counter) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return c.q.Exec(ctx, query, args...)
}

func (c *counter) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return countedRows{Rows: rows, c: c}, nil
}

func (c *counter) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return countedRow{Row: c.q.QueryRow(ctx, query, args...), c: c}
}

func (c *counter) count(dest []any) {
	c.rows++
	if len(dest) >= 27 {
		c.secrets++
	}
}

type countedRows struct {
	sqlstore.Rows
	c *counter
}

func (r countedRows) Scan(dest ...any) error { r.c.count(dest); return r.Rows.Scan(dest...) }

type countedRow struct {
	sqlstore.Row
	c *counter
}

func (r countedRow) Scan(dest ...any) error { r.c.count(dest); return r.Row.Scan(dest...) }

// TestListingsReadTheirPage checks the mechanism that keeps listings of a
// large folder fast: a page of 10 of a folder of 5,000 secrets decodes 10
// secrets, and the rows read besides (counts, sub-folder names, a
// sub-folder's times) are a handful, not the folder.
func TestListingsReadTheirPage(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	org := &coffer.Organization{ID: uuid.NewString(), Name: "o", CreatedAt: now}
	p := &coffer.Project{ID: uuid.NewString(), OrganizationID: org.ID, Name: "p", CreatedAt: now, UpdatedAt: now}
	const size, folders = 5000, 20
	err = db.Update(ctx, func(tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, p); err != nil {
			return err
		}
		for i := range size + folders {
			path, name := "/big", fmt.Sprintf("s%05d", i)
			if i >= size {
				path, name = fmt.Sprintf("/big/d%02d/e", i-size), "s"
			}
			s := &coffer.Secret{ID: uuid.NewString(), ProjectID: p.ID, Path: path, Name: name,
				Type: coffer.TypeOpaque, State: coffer.SecretEnabled, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateSecret(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	folder := storage.FolderQuery{ProjectIDs: []string{p.ID}, Folder: "/big"}
	tests := []struct {
		name string
		list func(ctx context.Context, tx *sqlstore.Tx) (int, error)
		// rows bounds the rows read; every listing reads 10 secrets.
		rows int
	}{
		{"ListFolderKeys", func(ctx context.Context, tx *sqlstore.Tx) (int, error) {
			keys, err := tx.ListFolderKeys(ctx, storage.KeyQuery{FolderQuery: folder, After: "s02500", Limit: 10, Secrets: true})
			return len(keys), err
		}, 10 + 10},
		{"ListFolderKeys of sub-folders", func(ctx context.Context, tx *sqlstore.Tx) (int, error) {
			keys, err := tx.ListFolderKeys(ctx, storage.KeyQuery{FolderQuery: folder, After: "d04/", Limit: 10, Secrets: true})
			return len(keys), err
		}, 10 + 10},
		{"BrowseFolder by name", func(ctx context.Context, tx *sqlstore.Tx) (int, error) {
			items, _, err := tx.BrowseFolder(ctx, storage.BrowseQuery{FolderQuery: folder, Offset: 2500, Limit: 10})
			return len(items), err
		}, 10 + folders + 10},
		{"BrowseFolder by name, descending", func(ctx context.Context, tx *sqlstore.Tx) (int, error) {
			items, _, err := tx.BrowseFolder(ctx, storage.BrowseQuery{FolderQuery: folder, Order: coffer.OrderNameDesc, Offset: 2500, Limit: 10})
			return len(items), err
		}, 10 + folders + 10},
		{"ListSecrets", func(ctx context.Context, tx *sqlstore.Tx) (int, error) {
			ss, _, err := tx.ListSecrets(ctx, storage.SecretQuery{ProjectIDs: []string{p.ID}, ScheduledForDeletion: new(bool), Offset: 2500, Limit: 10})
			return len(ss), err
		}, 10 + 1},
		{"ListSecrets below a folder", func(ctx context.Context, tx *sqlstore.Tx) (int, error) {
			ss, _, err := tx.ListSecrets(ctx, storage.SecretQuery{ProjectIDs: []string{p.ID}, PathPrefix: "/big", Offset: 2500, Limit: 10})
			return len(ss), err
		}, 10 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.View(ctx, func(stx storage.Tx) error {
				c := &counter{q: stx.(*tx)}
				x := db.records.Tx(c, false)
				n, err := tt.list(ctx, &x)
				if err != nil {
					return err
				}
				if n != 10 || c.secrets != 10 || c.rows > tt.rows {
					t.Errorf("%d entries, %d secrets decoded, %d rows read; want 10, 10, at most %d", n, c.secrets, c.rows, tt.rows)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
