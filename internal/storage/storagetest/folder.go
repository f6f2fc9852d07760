package storagetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	gocmp "github.com/google/go-cmp/cmp"
)

// folderTree is a set of secrets in two projects whose folder and secret
// names sort differently by name and by Vault key ("a-x/" before "a/",
// "a" before "a-x"), whose secrets share names with folders, and whose
// times tie; some secrets are scheduled for deletion, and one folder holds
// only such secrets.
type folderTree struct {
	p1, p2 string
	all    []*coffer.Secret
}

func newFolderTree(t *testing.T, s storage.Store) *folderTree {
	t.Helper()
	w := newWorld(t, s)
	ft := &folderTree{p1: w.project.ID, p2: w.addProject(t, s, "p2").ID}
	specs := []struct {
		project          int
		path, name       string
		tags             []string
		typ              coffer.SecretType
		deleted          bool
		created, updated time.Duration
	}{
		{1, "/", "a", []string{"x"}, coffer.TypeOpaque, false, 1, 9},
		{1, "/", "a-x", nil, coffer.TypeOpaque, false, 2, 2},
		{1, "/", "b", nil, coffer.TypeKeyValue, false, 3, 3},
		{1, "/", "gone", nil, coffer.TypeOpaque, true, 0, 0},
		{1, "/a", "a", []string{"x"}, coffer.TypeOpaque, false, 4, 4},
		{1, "/a", "z", nil, coffer.TypeKeyValue, false, 2, 8},
		{1, "/a/b", "c", []string{"x"}, coffer.TypeOpaque, false, 5, 5},
		{1, "/a/b-x", "c", nil, coffer.TypeOpaque, false, 1, 1},
		{1, "/a/b/c", "d", nil, coffer.TypeKeyValue, false, 6, 6},
		{1, "/a-x", "a", nil, coffer.TypeOpaque, false, 3, 3},
		{1, "/a-x/c", "d", []string{"x"}, coffer.TypeOpaque, false, 7, 7},
		{1, "/a.b", "d", nil, coffer.TypeOpaque, false, 3, 3},
		{1, "/a0", "e", nil, coffer.TypeOpaque, false, 3, 3},
		{1, "/-y", "q", []string{"x"}, coffer.TypeKeyValue, false, 0, 1},
		{1, "/.z/w", "q", nil, coffer.TypeOpaque, false, 2, 2},
		{1, "/B", "b", nil, coffer.TypeOpaque, false, 3, 3},
		{1, "/b/c/d", "e", []string{"x"}, coffer.TypeOpaque, false, 8, 8},
		{1, "/old", "o", nil, coffer.TypeOpaque, true, 9, 9},
		{2, "/", "a", nil, coffer.TypeOpaque, false, 1, 9},
		{2, "/", "c", nil, coffer.TypeOpaque, false, 3, 3},
		{2, "/a", "y", []string{"x"}, coffer.TypeOpaque, false, 0, 10},
		{2, "/c", "c", nil, coffer.TypeOpaque, false, 3, 3},
	}
	for _, sp := range specs {
		sec := newSecret([]string{ft.p1, ft.p2}[sp.project-1], sp.path, sp.name)
		sec.Tags, sec.Type = sp.tags, sp.typ
		if sp.deleted {
			sec.State = coffer.SecretDeletionScheduled
			sec.DeletionRequestedAt = ptr(at(time.Hour))
			sec.PurgeAt = ptr(at(time.Hour + coffer.DeletionDelay))
		}
		sec.CreatedAt, sec.UpdatedAt = at(sp.created*time.Hour), at(sp.updated*time.Hour)
		ft.all = append(ft.all, sec)
	}
	createSecrets(t, s, ft.all...)
	return ft
}

// queries returns the folder queries the tests ask, on every folder of the
// tree and some that do not exist.
func (ft *folderTree) queries() []storage.FolderQuery {
	var qs []storage.FolderQuery
	for _, f := range []string{"/", "/a", "/a/b", "/a-x", "/b", "/old", "/none", "/a/b/c"} {
		qs = append(qs,
			storage.FolderQuery{ProjectIDs: []string{ft.p1}, Folder: f},
			storage.FolderQuery{ProjectIDs: []string{ft.p1, ft.p2}, Folder: f},
			storage.FolderQuery{ProjectIDs: []string{ft.p1}, Folder: f, Tags: []string{"x"}},
			storage.FolderQuery{ProjectIDs: []string{ft.p1}, Folder: f, Type: coffer.TypeOpaque},
			storage.FolderQuery{ProjectIDs: []string{ft.p1}, Folder: f, PathPrefixes: []string{"/a/b", "/a-x"}},
		)
	}
	return qs
}

// model returns the entries of q the way the engine built them before the
// store listed folders: every matching secret below the folder, in name
// order, folded into sub-folders, then sorted.
func (ft *folderTree) model(q storage.FolderQuery, order coffer.SecretOrder) []coffer.BrowseItem {
	base := q.Folder + "/"
	if q.Folder == "/" {
		base = "/"
	}
	var below []*coffer.Secret
	for _, s := range ft.all {
		under := func(p string) bool { return p == "/" || s.Path == p || strings.HasPrefix(s.Path, p+"/") }
		if !slices.Contains(q.ProjectIDs, s.ProjectID) || s.State == coffer.SecretDeletionScheduled ||
			!under(q.Folder) || q.Type != "" && s.Type != q.Type ||
			len(q.PathPrefixes) > 0 && !slices.ContainsFunc(q.PathPrefixes, under) {
			continue
		}
		if !slices.ContainsFunc(q.Tags, func(tag string) bool { return !slices.Contains(s.Tags, tag) }) {
			below = append(below, s)
		}
	}
	sortSecrets(below, coffer.OrderNameAsc)
	var items []coffer.BrowseItem
	folders := map[string]int{}
	for _, s := range below {
		if s.Path == q.Folder {
			items = append(items, coffer.BrowseItem{Name: s.Name, Secret: s, CreatedAt: ptr(s.CreatedAt), UpdatedAt: ptr(s.UpdatedAt)})
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(s.Path, base), "/")
		if i, ok := folders[name]; ok {
			if s.CreatedAt.Before(*items[i].CreatedAt) {
				items[i].CreatedAt = ptr(s.CreatedAt)
			}
			if s.UpdatedAt.After(*items[i].UpdatedAt) {
				items[i].UpdatedAt = ptr(s.UpdatedAt)
			}
			continue
		}
		folders[name] = len(items)
		items = append(items, coffer.BrowseItem{Name: name, CreatedAt: ptr(s.CreatedAt), UpdatedAt: ptr(s.UpdatedAt)})
	}
	key := func(it coffer.BrowseItem) time.Time {
		if order == coffer.OrderCreatedAtAsc || order == coffer.OrderCreatedAtDesc {
			return *it.CreatedAt
		}
		return *it.UpdatedAt
	}
	slices.SortStableFunc(items, func(a, b coffer.BrowseItem) int {
		var c int
		switch order {
		case coffer.OrderNameAsc:
			c = strings.Compare(a.Name, b.Name)
		case coffer.OrderNameDesc:
			c = strings.Compare(b.Name, a.Name)
		case coffer.OrderCreatedAtAsc, coffer.OrderUpdatedAtAsc:
			c = key(a).Compare(key(b))
		default:
			c = key(b).Compare(key(a))
		}
		if c != 0 {
			return c
		}
		if (a.Secret == nil) != (b.Secret == nil) {
			if a.Secret == nil {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return items
}

// modelKeys returns the keys of q in byte order, with their secrets.
func (ft *folderTree) modelKeys(q storage.FolderQuery) []storage.FolderKey {
	var keys []storage.FolderKey
	for _, it := range ft.model(q, coffer.OrderNameAsc) {
		if it.Secret == nil {
			keys = append(keys, storage.FolderKey{Key: it.Name + "/"})
		} else {
			keys = append(keys, storage.FolderKey{Key: it.Name, Secret: it.Secret})
		}
	}
	slices.SortStableFunc(keys, func(a, b storage.FolderKey) int { return strings.Compare(a.Key, b.Key) })
	return keys
}

// describe shows browse items as "name" for a secret (with its project's
// number when two projects are listed) and "name/" for a folder, with
// their times.
func (ft *folderTree) describe(items []coffer.BrowseItem) []string {
	out := []string{}
	for _, it := range items {
		d := it.Name + "/"
		if it.Secret != nil {
			d = it.Name + "@" + map[string]string{ft.p1: "1", ft.p2: "2"}[it.Secret.ProjectID] + ":" + it.Secret.ID
		}
		out = append(out, fmt.Sprintf("%s %v %v", d, it.CreatedAt.Unix(), it.UpdatedAt.Unix()))
	}
	return out
}

// testBrowseFolder checks every page of every order of BrowseFolder against
// the model.
func testBrowseFolder(t *testing.T, s storage.Store) {
	ft := newFolderTree(t, s)
	orders := []coffer.SecretOrder{coffer.OrderNameAsc, coffer.OrderNameDesc, coffer.OrderCreatedAtAsc,
		coffer.OrderCreatedAtDesc, coffer.OrderUpdatedAtAsc, coffer.OrderUpdatedAtDesc}
	for _, q := range ft.queries() {
		for _, order := range orders {
			want := ft.model(q, order)
			for _, limit := range []int{0, 1, 2, 3, 100} {
				for offset := 0; offset <= len(want)+1; offset++ {
					bq := storage.BrowseQuery{FolderQuery: q, Order: order, Offset: offset, Limit: limit}
					var got []coffer.BrowseItem
					var total int
					view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
						got, total, err = tx.BrowseFolder(ctx, bq)
						return err
					})
					end := len(want)
					if limit > 0 {
						end = min(offset+limit, end)
					}
					page := want[min(offset, len(want)):max(end, min(offset, len(want)))]
					if diff := gocmp.Diff(ft.describe(page), ft.describe(got)); diff != "" || total != len(want) {
						t.Fatalf("BrowseFolder(%+v): total %d, want %d; items (-want +got):\n%s", bq, total, len(want), diff)
					}
					for i, it := range got {
						if it.Secret != nil && it.Secret.ProjectID == "" {
							t.Fatalf("BrowseFolder(%+v): item %d: secret not read", bq, i)
						}
					}
				}
			}
		}
	}
}

// testListFolderKeys checks ListFolderKeys against the model from every
// starting key, and that paging with the last key of each page lists every
// key once, in order.
func testListFolderKeys(t *testing.T, s storage.Store) {
	ft := newFolderTree(t, s)
	list := func(q storage.KeyQuery) []storage.FolderKey {
		t.Helper()
		var got []storage.FolderKey
		view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			got, err = tx.ListFolderKeys(ctx, q)
			return err
		})
		return got
	}
	show := func(keys []storage.FolderKey, secrets bool) []string {
		out := []string{}
		for _, k := range keys {
			d := k.Key
			if secrets && k.Secret != nil {
				d += ":" + k.Secret.ID
			}
			out = append(out, d)
		}
		return out
	}
	for _, q := range ft.queries() {
		want := ft.modelKeys(q)
		afters := []string{"", "a", "a/", "a/zz", "a-", "a-x", "a-x/", "a.", "b/", "zzz", "-", ".", "/", "0"}
		for _, k := range want {
			afters = append(afters, k.Key)
		}
		for _, after := range afters {
			for _, limit := range []int{1, 2, 3, 100} {
				for _, secrets := range []bool{false, true} {
					var rest []storage.FolderKey
					for _, k := range want {
						if k.Key > after {
							rest = append(rest, k)
						}
					}
					rest = rest[:min(limit, len(rest))]
					kq := storage.KeyQuery{FolderQuery: q, After: after, Limit: limit, Secrets: secrets}
					got := list(kq)
					if diff := gocmp.Diff(show(rest, secrets), show(got, secrets)); diff != "" {
						t.Fatalf("ListFolderKeys(%+v) (-want +got):\n%s", kq, diff)
					}
					if !secrets && slices.ContainsFunc(got, func(k storage.FolderKey) bool { return k.Secret != nil }) {
						t.Fatalf("ListFolderKeys(%+v): secrets read without being asked for", kq)
					}
				}
			}
		}
		if len(q.ProjectIDs) > 1 {
			continue // keys repeat across projects
		}
		// Page through with the last key of each page.
		var all []storage.FolderKey
		for after := ""; ; {
			page := list(storage.KeyQuery{FolderQuery: q, After: after, Limit: 2})
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1].Key
		}
		if diff := gocmp.Diff(show(want, false), show(all, false)); diff != "" {
			t.Fatalf("ListFolderKeys(%+v) by pages of 2 (-want +got):\n%s", q, diff)
		}
	}
	// A limit is required.
	view(t, s, func(ctx context.Context, tx storage.Tx) error {
		if _, err := tx.ListFolderKeys(ctx, storage.KeyQuery{FolderQuery: storage.FolderQuery{ProjectIDs: []string{ft.p1}, Folder: "/"}}); err == nil {
			t.Error("ListFolderKeys without a limit: no error")
		}
		return nil
	})
}

// testListSecretsVersions checks the versions of several secrets in one
// call: grouped in the order asked, newest first, without data.
func testListSecretsVersions(t *testing.T, s storage.Store) {
	w := newWorld(t, s)
	a, b, c := newSecret(w.project.ID, "/", "a"), newSecret(w.project.ID, "/", "b"), newSecret(w.project.ID, "/", "c")
	createSecrets(t, s, a, b, c)
	var vs []*storage.Version
	for _, sec := range []*coffer.Secret{a, b} {
		for rev := uint32(1); rev <= 3; rev++ {
			vs = append(vs, newVersion(sec, rev))
		}
	}
	createVersions(t, s, vs...)
	got := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.Version, error) {
		return tx.ListSecretsVersions(ctx, []string{c.ID, b.ID, a.ID})
	})
	var want []string
	for _, sec := range []*coffer.Secret{b, a} {
		for rev := 3; rev >= 1; rev-- {
			want = append(want, fmt.Sprintf("%s/%d", sec.ID, rev))
		}
	}
	var gotKeys []string
	for _, v := range got {
		gotKeys = append(gotKeys, fmt.Sprintf("%s/%d", v.SecretID, v.Revision))
		if v.Data != nil || v.ProjectID != w.project.ID {
			t.Errorf("version %s/%d: data %v, project %q", v.SecretID, v.Revision, v.Data, v.ProjectID)
		}
	}
	if diff := gocmp.Diff(want, gotKeys); diff != "" {
		t.Errorf("ListSecretsVersions (-want +got):\n%s", diff)
	}
	none := read(t, s, func(ctx context.Context, tx storage.Tx) ([]*storage.Version, error) {
		return tx.ListSecretsVersions(ctx, nil)
	})
	if len(none) != 0 {
		t.Errorf("ListSecretsVersions(nil): %d versions", len(none))
	}
}
