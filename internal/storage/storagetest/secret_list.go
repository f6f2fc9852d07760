package storagetest

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// listSecrets returns what ListSecrets returns for q.
func listSecrets(t *testing.T, s storage.Store, q storage.SecretQuery) ([]*coffer.Secret, int) {
	t.Helper()
	var secrets []*coffer.Secret
	var total int
	view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		secrets, total, err = tx.ListSecrets(ctx, q)
		return err
	})
	return secrets, total
}

// listIDs returns the ids of the secrets ListSecrets returns for q, and
// checks that the total counts them when q asks for every page.
func listIDs(t *testing.T, s storage.Store, q storage.SecretQuery) []string {
	t.Helper()
	secrets, total := listSecrets(t, s, q)
	if q.Offset == 0 && q.Limit == 0 && total != len(secrets) {
		t.Errorf("ListSecrets(%+v): total %d, want %d", q, total, len(secrets))
	}
	return ids(secrets)
}

// listTags returns what ListTags returns.
func listTags(t *testing.T, s storage.Store, projectID string, offset, limit int) ([]string, int) {
	t.Helper()
	var tags []string
	var total int
	view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		tags, total, err = tx.ListTags(ctx, projectID, offset, limit)
		return err
	})
	return tags, total
}

// ids returns the ids of secrets, in order.
func ids(secrets []*coffer.Secret) []string {
	out := make([]string, len(secrets))
	for i, sec := range secrets {
		out[i] = sec.ID
	}
	return out
}

// listing is a set of secrets across three projects that ListSecrets tests
// query. Its names, paths and tags are chosen so that byte order differs from
// case-insensitive order; "/ab", "/a.b" and "/a/bc" sit next to "/a" and
// "/a/b", one on each side in byte order; and names, creation and update
// times have ties.
type listing struct {
	p1, p2, p3 string
	all        []*coffer.Secret
	byKey      map[string]*coffer.Secret // "project-index path name"
}

// secretSpec describes one secret of a listing.
type secretSpec struct {
	project            int // 1, 2 or 3
	path, name         string
	typ                coffer.SecretType
	tags               []string
	ephemeral, deleted bool
	created, updated   time.Duration
}

func newListing(t *testing.T, s storage.Store) *listing {
	t.Helper()
	w := newWorld(t, s)
	l := &listing{
		p1:    w.project.ID,
		p2:    w.addProject(t, s, "p2").ID,
		p3:    w.addProject(t, s, "p3").ID,
		byKey: map[string]*coffer.Secret{},
	}
	specs := []secretSpec{
		{1, "/", "alpha", coffer.TypeOpaque, []string{"prod"}, false, false, 0, 5},
		{1, "/", "Zulu", coffer.TypeKeyValue, []string{"prod", "db"}, true, false, 1, 5},
		{1, "/a", "alpha", coffer.TypeOpaque, []string{"db"}, false, true, 1, 4},
		{1, "/a/b", "beta", coffer.TypeCertificate, []string{"prod", "db", "x"}, false, false, 2, 3},
		{1, "/ab", "gamma", coffer.TypeOpaque, []string{"x"}, true, true, 2, 3},
		{1, "/a/b/c", "dup", coffer.TypeSSHKey, nil, false, false, 3, 2},
		{1, "/b", "dup", coffer.TypeOpaque, []string{"prod"}, false, false, 3, 2},
		{1, "/a", "émile", coffer.TypeOpaque, []string{"db", "prod"}, false, false, 4, 1},
		{1, "/a/bc", "delta", coffer.TypeOpaque, []string{}, false, false, 4, 0},
		{1, "/A", "alpha", coffer.TypeOpaque, []string{"é", "Zed"}, false, false, 5, 0},
		{1, "/a.b", "zeta", coffer.TypeOpaque, nil, false, false, 6, 1}, // '.' sorts before '/'
		{2, "/a", "alpha", coffer.TypeOpaque, []string{"prod"}, false, false, 0, 0},
		{2, "/", "omega", coffer.TypeKeyValue, []string{"db"}, false, true, 6, 6},
		{3, "/a", "alpha", coffer.TypeOpaque, []string{"prod"}, false, false, 0, 0},
	}
	for _, sp := range specs {
		pid := []string{l.p1, l.p2, l.p3}[sp.project-1]
		sec := newSecret(pid, sp.path, sp.name)
		sec.Type = sp.typ
		sec.Tags = sp.tags
		if sp.ephemeral {
			sec.Ephemeral = &coffer.EphemeralPolicy{TTL: time.Hour, Action: coffer.EphemeralDisable}
		}
		if sp.deleted {
			sec.State = coffer.SecretDeletionScheduled
			sec.DeletionRequestedAt = ptr(at(time.Hour))
			sec.PurgeAt = ptr(at(time.Hour + coffer.DeletionDelay))
		}
		sec.CreatedAt = at(sp.created * time.Hour)
		sec.UpdatedAt = at(sp.updated * time.Hour)
		l.all = append(l.all, sec)
		l.byKey[l.key(sp.project, sp.path, sp.name)] = sec
	}
	createSecrets(t, s, l.all...)
	return l
}

func (l *listing) key(project int, path, name string) string {
	return strings.Join([]string{string(rune('0' + project)), path, name}, " ")
}

// ids returns the ids of the secrets named "project path name", in
// ListSecrets' default order.
func (l *listing) ids(t *testing.T, keys ...string) []string {
	t.Helper()
	var secrets []*coffer.Secret
	for _, k := range keys {
		sec, ok := l.byKey[k]
		if !ok {
			t.Fatalf("no secret %q in the listing", k)
		}
		secrets = append(secrets, sec)
	}
	sortSecrets(secrets, coffer.OrderNameAsc)
	return ids(secrets)
}

// sortSecrets sorts secrets in a listing order: by the order's field, then
// by id; a descending order is the exact reverse of the ascending one.
func sortSecrets(secrets []*coffer.Secret, o coffer.SecretOrder) {
	var key func(a, b *coffer.Secret) int
	desc := false
	switch o {
	case "", coffer.OrderNameAsc, coffer.OrderNameDesc:
		key = func(a, b *coffer.Secret) int { return strings.Compare(a.Name, b.Name) } // bytes
		desc = o == coffer.OrderNameDesc
	case coffer.OrderCreatedAtAsc, coffer.OrderCreatedAtDesc:
		key = func(a, b *coffer.Secret) int { return a.CreatedAt.Compare(b.CreatedAt) }
		desc = o == coffer.OrderCreatedAtDesc
	case coffer.OrderUpdatedAtAsc, coffer.OrderUpdatedAtDesc:
		key = func(a, b *coffer.Secret) int { return a.UpdatedAt.Compare(b.UpdatedAt) }
		desc = o == coffer.OrderUpdatedAtDesc
	default:
		panic("unknown order " + o)
	}
	slices.SortFunc(secrets, func(a, b *coffer.Secret) int {
		c := cmp.Or(key(a, b), strings.Compare(a.ID, b.ID))
		if desc {
			return -c
		}
		return c
	})
}

func testListSecretsFilter(t *testing.T, s storage.Store) {
	l := newListing(t, s)
	p1 := []string{l.p1}
	tests := []struct {
		name string
		q    storage.SecretQuery
		want []string // "project path name"
	}{
		{"no filter", storage.SecretQuery{ProjectIDs: p1}, []string{
			"1 / alpha", "1 / Zulu", "1 /a alpha", "1 /a/b beta", "1 /ab gamma",
			"1 /a/b/c dup", "1 /b dup", "1 /a émile", "1 /a/bc delta", "1 /A alpha", "1 /a.b zeta"}},
		{"name", storage.SecretQuery{ProjectIDs: p1, Name: "alpha"}, []string{"1 / alpha", "1 /a alpha", "1 /A alpha"}},
		{"name is exact", storage.SecretQuery{ProjectIDs: p1, Name: "Alpha"}, nil},
		{"name dup", storage.SecretQuery{ProjectIDs: p1, Name: "dup"}, []string{"1 /a/b/c dup", "1 /b dup"}},
		{"path", storage.SecretQuery{ProjectIDs: p1, Path: "/a"}, []string{"1 /a alpha", "1 /a émile"}},
		{"path root", storage.SecretQuery{ProjectIDs: p1, Path: "/"}, []string{"1 / alpha", "1 / Zulu"}},
		{"path and name", storage.SecretQuery{ProjectIDs: p1, Path: "/a", Name: "alpha"}, []string{"1 /a alpha"}},
		{"path prefix", storage.SecretQuery{ProjectIDs: p1, PathPrefix: "/a"}, []string{
			"1 /a alpha", "1 /a émile", "1 /a/b beta", "1 /a/b/c dup", "1 /a/bc delta"}},
		{"path prefix nested", storage.SecretQuery{ProjectIDs: p1, PathPrefix: "/a/b"}, []string{"1 /a/b beta", "1 /a/b/c dup"}},
		{"path prefix leaf", storage.SecretQuery{ProjectIDs: p1, PathPrefix: "/a/b/c"}, []string{"1 /a/b/c dup"}},
		{"path prefix root", storage.SecretQuery{ProjectIDs: p1, PathPrefix: "/"}, []string{
			"1 / alpha", "1 / Zulu", "1 /a alpha", "1 /a/b beta", "1 /ab gamma",
			"1 /a/b/c dup", "1 /b dup", "1 /a émile", "1 /a/bc delta", "1 /A alpha", "1 /a.b zeta"}},
		{"path prefix none", storage.SecretQuery{ProjectIDs: p1, PathPrefix: "/nope"}, nil},
		{"path prefix and path", storage.SecretQuery{ProjectIDs: p1, PathPrefix: "/a", Path: "/a/b"}, []string{"1 /a/b beta"}},
		{"tag", storage.SecretQuery{ProjectIDs: p1, Tags: []string{"prod"}}, []string{
			"1 / alpha", "1 / Zulu", "1 /a/b beta", "1 /b dup", "1 /a émile"}},
		{"tags all", storage.SecretQuery{ProjectIDs: p1, Tags: []string{"prod", "db"}}, []string{
			"1 / Zulu", "1 /a/b beta", "1 /a émile"}},
		{"tags all reordered", storage.SecretQuery{ProjectIDs: p1, Tags: []string{"db", "prod"}}, []string{
			"1 / Zulu", "1 /a/b beta", "1 /a émile"}},
		{"tags three", storage.SecretQuery{ProjectIDs: p1, Tags: []string{"x", "prod", "db"}}, []string{"1 /a/b beta"}},
		{"tag is exact", storage.SecretQuery{ProjectIDs: p1, Tags: []string{"zed"}}, nil},
		{"tag unknown", storage.SecretQuery{ProjectIDs: p1, Tags: []string{"prod", "nope"}}, nil},
		{"type", storage.SecretQuery{ProjectIDs: p1, Type: coffer.TypeOpaque}, []string{
			"1 / alpha", "1 /a alpha", "1 /ab gamma", "1 /b dup", "1 /a émile", "1 /a/bc delta", "1 /A alpha", "1 /a.b zeta"}},
		{"type certificate", storage.SecretQuery{ProjectIDs: p1, Type: coffer.TypeCertificate}, []string{"1 /a/b beta"}},
		{"type unused", storage.SecretQuery{ProjectIDs: p1, Type: coffer.TypeBasicCredentials}, nil},
		{"ephemeral", storage.SecretQuery{ProjectIDs: p1, Ephemeral: ptr(true)}, []string{"1 / Zulu", "1 /ab gamma"}},
		{"not ephemeral", storage.SecretQuery{ProjectIDs: p1, Ephemeral: ptr(false)}, []string{
			"1 / alpha", "1 /a alpha", "1 /a/b beta", "1 /a/b/c dup", "1 /b dup", "1 /a émile", "1 /a/bc delta", "1 /A alpha", "1 /a.b zeta"}},
		{"scheduled for deletion", storage.SecretQuery{ProjectIDs: p1, ScheduledForDeletion: ptr(true)}, []string{"1 /a alpha", "1 /ab gamma"}},
		{"not scheduled for deletion", storage.SecretQuery{ProjectIDs: p1, ScheduledForDeletion: ptr(false)}, []string{
			"1 / alpha", "1 / Zulu", "1 /a/b beta", "1 /a/b/c dup", "1 /b dup", "1 /a émile", "1 /a/bc delta", "1 /A alpha", "1 /a.b zeta"}},
		{"ephemeral and scheduled", storage.SecretQuery{ProjectIDs: p1, Ephemeral: ptr(true), ScheduledForDeletion: ptr(true)}, []string{"1 /ab gamma"}},
		{"two projects", storage.SecretQuery{ProjectIDs: []string{l.p1, l.p2}, Name: "alpha"}, []string{
			"1 / alpha", "1 /a alpha", "1 /A alpha", "2 /a alpha"}},
		{"other projects", storage.SecretQuery{ProjectIDs: []string{l.p2, l.p3}}, []string{"2 /a alpha", "2 / omega", "3 /a alpha"}},
		{"other project scheduled", storage.SecretQuery{ProjectIDs: []string{l.p3, l.p2}, ScheduledForDeletion: ptr(true)}, []string{"2 / omega"}},
		{"unknown project", storage.SecretQuery{ProjectIDs: []string{newID()}}, nil},
		{"combined", storage.SecretQuery{ProjectIDs: p1, PathPrefix: "/a", Tags: []string{"db"}, Type: coffer.TypeOpaque}, []string{
			"1 /a alpha", "1 /a émile"}},
		{"combined not scheduled", storage.SecretQuery{ProjectIDs: p1, PathPrefix: "/a", Tags: []string{"db"}, Type: coffer.TypeOpaque, ScheduledForDeletion: ptr(false)}, []string{
			"1 /a émile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listIDs(t, s, tt.q)
			if diff := gocmp.Diff(l.ids(t, tt.want...), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListSecrets(%+v) (-want +got):\n%s", tt.q, diff)
			}
		})
	}

	t.Run("records", func(t *testing.T) {
		// A listing returns whole records.
		got, total := listSecrets(t, s, storage.SecretQuery{ProjectIDs: []string{l.p1, l.p2, l.p3}})
		want := slices.Clone(l.all)
		sortSecrets(want, coffer.OrderNameAsc)
		if diff := gocmp.Diff(want, got); diff != "" || total != len(want) {
			t.Errorf("ListSecrets(every project): total %d, want %d (-want +got):\n%s", total, len(want), diff)
		}
	})
}

func testListSecretsOrder(t *testing.T, s storage.Store) {
	l := newListing(t, s)
	pids := []string{l.p1, l.p2}

	t.Run("byte order", func(t *testing.T) {
		secrets, _ := listSecrets(t, s, storage.SecretQuery{ProjectIDs: []string{l.p1}})
		var names []string
		for _, sec := range secrets {
			names = append(names, sec.Name)
		}
		want := []string{"Zulu", "alpha", "alpha", "alpha", "beta", "delta", "dup", "dup", "gamma", "zeta", "émile"}
		if diff := gocmp.Diff(want, names); diff != "" {
			t.Errorf("ListSecrets names (-want +got):\n%s", diff)
		}
	})

	for _, o := range []coffer.SecretOrder{
		"",
		coffer.OrderNameAsc, coffer.OrderNameDesc,
		coffer.OrderCreatedAtAsc, coffer.OrderCreatedAtDesc,
		coffer.OrderUpdatedAtAsc, coffer.OrderUpdatedAtDesc,
	} {
		t.Run(cmp.Or(string(o), "default"), func(t *testing.T) {
			var want []*coffer.Secret
			for _, sec := range l.all {
				if slices.Contains(pids, sec.ProjectID) {
					want = append(want, sec)
				}
			}
			sortSecrets(want, o)
			got := listIDs(t, s, storage.SecretQuery{ProjectIDs: pids, Order: o})
			if diff := gocmp.Diff(ids(want), got); diff != "" {
				t.Errorf("ListSecrets order %q (-want +got):\n%s", o, diff)
			}
			// Filters keep the order.
			want = slices.DeleteFunc(want, func(sec *coffer.Secret) bool { return !slices.Contains(sec.Tags, "prod") })
			got = listIDs(t, s, storage.SecretQuery{ProjectIDs: pids, Order: o, Tags: []string{"prod"}})
			if diff := gocmp.Diff(ids(want), got); diff != "" {
				t.Errorf("ListSecrets order %q, tag prod (-want +got):\n%s", o, diff)
			}
		})
	}
}

func testListSecretsPage(t *testing.T, s storage.Store) {
	l := newListing(t, s)
	pids := []string{l.p1, l.p2, l.p3}
	n := len(l.all)

	for _, o := range []coffer.SecretOrder{coffer.OrderNameAsc, coffer.OrderCreatedAtDesc, coffer.OrderUpdatedAtAsc} {
		want := slices.Clone(l.all)
		sortSecrets(want, o)
		for _, limit := range []int{1, 3, 5, n, n + 1} {
			t.Run(string(o)+"/limit="+strconv.Itoa(limit), func(t *testing.T) {
				var got []string
				for offset := 0; offset < n; offset += limit {
					page, total := listSecrets(t, s, storage.SecretQuery{ProjectIDs: pids, Order: o, Offset: offset, Limit: limit})
					if total != n {
						t.Errorf("offset %d: total %d, want %d", offset, total, n)
					}
					if wantLen := min(limit, n-offset); len(page) != wantLen {
						t.Errorf("offset %d: %d secrets, want %d", offset, len(page), wantLen)
					}
					got = append(got, ids(page)...)
				}
				if diff := gocmp.Diff(ids(want), got); diff != "" {
					t.Errorf("pages joined (-want +got):\n%s", diff)
				}
			})
		}
		t.Run(string(o)+"/offset without limit", func(t *testing.T) {
			page, total := listSecrets(t, s, storage.SecretQuery{ProjectIDs: pids, Order: o, Offset: 4})
			if diff := gocmp.Diff(ids(want[4:]), ids(page)); diff != "" || total != n {
				t.Errorf("total %d, want %d (-want +got):\n%s", total, n, diff)
			}
		})
	}

	t.Run("past the end", func(t *testing.T) {
		for _, offset := range []int{n, n + 1, 1000} {
			page, total := listSecrets(t, s, storage.SecretQuery{ProjectIDs: pids, Offset: offset, Limit: 5})
			if len(page) != 0 || total != n {
				t.Errorf("offset %d: %d secrets, total %d; want 0, %d", offset, len(page), total, n)
			}
		}
	})

	t.Run("filtered total", func(t *testing.T) {
		// The total counts the matches, not the page, nor every secret.
		page, total := listSecrets(t, s, storage.SecretQuery{ProjectIDs: pids, Tags: []string{"prod"}, Offset: 1, Limit: 2})
		want := 7 // tag prod: 5 in p1, 1 in p2, 1 in p3
		if len(page) != 2 || total != want {
			t.Errorf("%d secrets, total %d; want 2, %d", len(page), total, want)
		}
		page, total = listSecrets(t, s, storage.SecretQuery{ProjectIDs: pids, Name: "nope", Limit: 2})
		if len(page) != 0 || total != 0 {
			t.Errorf("no match: %d secrets, total %d; want 0, 0", len(page), total)
		}
	})
}

func testListTags(t *testing.T, s storage.Store) {
	l := newListing(t, s)
	all := []string{"Zed", "db", "prod", "x", "é"} // distinct, in byte order
	tests := []struct {
		name          string
		project       string
		offset, limit int
		want          []string
		total         int
	}{
		{"all", l.p1, 0, 0, all, 5},
		{"first page", l.p1, 0, 2, all[:2], 5},
		{"second page", l.p1, 2, 2, all[2:4], 5},
		{"last page", l.p1, 4, 2, all[4:], 5},
		{"past the end", l.p1, 5, 2, nil, 5},
		{"far past the end", l.p1, 50, 0, nil, 5},
		{"offset without limit", l.p1, 3, 0, all[3:], 5},
		{"other project", l.p2, 0, 0, []string{"db", "prod"}, 2},
		{"third project", l.p3, 0, 10, []string{"prod"}, 1},
		{"unknown project", newID(), 0, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total := listTags(t, s, tt.project, tt.offset, tt.limit)
			if diff := gocmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListTags(%d, %d) (-want +got):\n%s", tt.offset, tt.limit, diff)
			}
			if total != tt.total {
				t.Errorf("ListTags(%d, %d): total %d, want %d", tt.offset, tt.limit, total, tt.total)
			}
		})
	}
}

func testListSecretTypes(t *testing.T, s storage.Store) {
	l := newListing(t, s)
	tests := []struct {
		name    string
		project string
		want    []coffer.SecretType
	}{
		{"distinct in byte order", l.p1, []coffer.SecretType{
			coffer.TypeCertificate, coffer.TypeKeyValue, coffer.TypeOpaque, coffer.TypeSSHKey}},
		{"other project", l.p2, []coffer.SecretType{coffer.TypeKeyValue, coffer.TypeOpaque}},
		{"unknown project", newID(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := read(t, s, func(ctx context.Context, tx storage.Tx) ([]coffer.SecretType, error) {
				return tx.ListSecretTypes(ctx, tt.project)
			})
			if diff := gocmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListSecretTypes (-want +got):\n%s", diff)
			}
		})
	}
}
