package sqlstore

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Folder listings read the index secrets_project_folder (migration 0008),
// whose key is a secret's path with a trailing slash, never the whole
// folder:
//
//   - The secrets directly in a folder /a are the rows whose key is "/a/"
//     (the root's: "//"), in name order.
//   - Everything below /a is the one key range ["/a/", "/a0"): '0' is the
//     byte after '/'.
//   - The sub-folders of /a are found by a skip scan: the first key above
//     "/a/" names the first sub-folder, say "/a/b/c/" names b; the next
//     sub-folder is the first key at or above "/a/b0", past everything
//     below /a/b; and so on, one index seek per sub-folder. Keys in this
//     order are Vault's folder keys in byte order ("b-x/" before "b/"),
//     which a plain path index does not give ("/a/b" < "/a/b-x" < "/a/b/c").
//
// A skip scan was chosen over a table of folders kept up to date by every
// write: it adds no row that every write to a folder would lock (a hot
// row per folder on PostgreSQL), no count to repair after a crash or a
// concurrent move, and it applies whatever the listing filters (tags,
// type, deletion state, the caller's path prefixes) for free, which a
// table of folders could not without reading the secrets anyway. Its cost
// is one index seek per sub-folder listed, and for a folder's times, an
// index-only aggregate over the secrets below it.

// folderKey is the key of secrets_project_folder, of the table aliased s.
const folderKey = "(s.path || '/')"

// folderKeys are the index keys of one folder.
type folderKeys struct {
	// own is the key of the secrets directly in the folder.
	own string
	// base is what the keys below the folder start with; a sub-folder's
	// name follows it.
	base string
	// hi bounds the keys below the folder, excluded.
	hi string
}

// keysOf returns the index keys of a normalized folder path.
func keysOf(folder string) folderKeys {
	if folder == "/" {
		return folderKeys{own: "//", base: "/", hi: "0"}
	}
	return folderKeys{own: folder + "/", base: folder + "/", hi: folder + "0"}
}

// keyRange returns the range of index keys of the secrets whose path is
// folder or lies below it: [lo, hi).
func keyRange(folder string) (lo, hi string) {
	folder = strings.TrimSuffix(folder, "/")
	if folder == "" {
		return "/", "0"
	}
	return folder + "/", folder + "0"
}

// folderConditions returns the WHERE conditions that every entry of q
// meets, on the table aliased s, for the projects given, adding their
// arguments to args.
func (t *Tx) folderConditions(q storage.FolderQuery, projects []string, args *[]any) string {
	return t.secretConditions(storage.SecretQuery{
		ProjectIDs:           projects,
		PathPrefixes:         q.PathPrefixes,
		Tags:                 q.Tags,
		Type:                 q.Type,
		ScheduledForDeletion: new(bool),
	}, args)
}

// subFolders returns the names of the sub-folders of q.Folder in one
// project, in byte order of their keys (name and a slash), whose key is
// after after ("" for all), at most limit of them (0 for all): a skip
// scan, one index seek per name.
func (t *Tx) subFolders(ctx context.Context, q storage.FolderQuery, project, after string, limit int) ([]string, error) {
	var args []any
	where := t.folderConditions(q, []string{project}, &args)
	n := len(args)
	step := func(op string) string {
		return t.s.rebind(`SELECT ` + folderKey + ` FROM secrets s WHERE ` + where +
			` AND ` + folderKey + ` ` + op + ` ? AND ` + folderKey + ` < ? ORDER BY ` + folderKey + ` LIMIT 1`)
	}
	atOrAbove, above := step(">="), step(">")

	k := keysOf(q.Folder)
	// The first key to look at: folder keys after "x" are at or above
	// "x0" when after is "x/..." (everything below x is skipped), and
	// above base+after otherwise.
	lo, inclusive := k.base, true
	if after != "" {
		if name, _, ok := strings.Cut(after, "/"); ok {
			lo = k.base + name + "0"
		} else {
			lo, inclusive = k.base+after, false
		}
	}
	var names []string
	for limit == 0 || len(names) < limit {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		query := above
		if inclusive {
			query = atOrAbove
		}
		var key string
		err := t.q.QueryRow(ctx, query, append(args[:n:n], lo, k.hi)...).Scan(&key)
		if t.s.d.Kind(err) == NoRows {
			break
		} else if err != nil {
			return nil, t.classify(err)
		}
		name, _, _ := strings.Cut(key[len(k.base):], "/")
		if name == "" { // the secrets directly in the folder
			lo, inclusive = key, false
			continue
		}
		names = append(names, name)
		lo, inclusive = k.base+name+"0", true
	}
	return names, nil
}

// allSubFolders returns the names of the sub-folders of q.Folder across
// q's projects, each once, in byte order.
func (t *Tx) allSubFolders(ctx context.Context, q storage.FolderQuery) ([]string, error) {
	var names []string
	for _, p := range q.ProjectIDs {
		ns, err := t.subFolders(ctx, q, p, "", 0)
		if err != nil {
			return nil, err
		}
		names = append(names, ns...)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// ListFolderKeys returns, in byte order of their keys, the first q.Limit
// entries of a folder whose keys come after q.After. It reads at most
// q.Limit secrets and seeks at most q.Limit sub-folders per project.
func (t *Tx) ListFolderKeys(ctx context.Context, q storage.KeyQuery) ([]storage.FolderKey, error) {
	keys, err := t.listFolderKeys(ctx, q)
	if err != nil {
		return nil, t.errorf("list keys of folder %q: %w", q.Folder, err)
	}
	return keys, nil
}

func (t *Tx) listFolderKeys(ctx context.Context, q storage.KeyQuery) ([]storage.FolderKey, error) {
	if q.Limit <= 0 {
		return nil, t.errorf("list keys: limit %d, want a positive one", q.Limit)
	}
	if len(q.ProjectIDs) == 0 {
		return nil, nil
	}
	var folders []string
	for _, p := range q.ProjectIDs {
		ns, err := t.subFolders(ctx, q.FolderQuery, p, q.After, q.Limit)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			folders = append(folders, n+"/")
		}
	}
	if len(q.ProjectIDs) > 1 {
		slices.Sort(folders)
		folders = slices.Compact(folders)
	}

	var args []any
	where := t.folderConditions(q.FolderQuery, q.ProjectIDs, &args)
	args = append(args, keysOf(q.Folder).own, q.After, int64(q.Limit))
	cols := "s.name"
	if q.Secrets {
		cols = secretColumns
	}
	rows, err := t.queryBuilt(ctx, `SELECT `+cols+` FROM secrets s WHERE `+where+
		` AND `+folderKey+` = ? AND s.name > ? ORDER BY s.name, s.id LIMIT ?`, args...)
	if err != nil {
		return nil, t.classify(err)
	}
	secrets, err := collect(rows, func(row Row) (storage.FolderKey, error) {
		if !q.Secrets {
			name, err := scanString(row)
			return storage.FolderKey{Key: name}, err
		}
		s, err := scanSecret(row)
		if err != nil {
			return storage.FolderKey{}, err
		}
		return storage.FolderKey{Key: s.Name, Secret: s}, nil
	})
	if err != nil {
		return nil, t.classify(err)
	}

	// Merge the two sorted lists; a secret's key has no slash, a folder's
	// ends with one, so that no key is in both.
	out := make([]storage.FolderKey, 0, min(q.Limit, len(secrets)+len(folders)))
	for len(out) < q.Limit && (len(secrets) > 0 || len(folders) > 0) {
		if len(folders) == 0 || len(secrets) > 0 && secrets[0].Key < folders[0] {
			out = append(out, secrets[0])
			secrets = secrets[1:]
		} else {
			out = append(out, storage.FolderKey{Key: folders[0]})
			folders = folders[1:]
		}
	}
	return out, nil
}

// BrowseFolder returns one page of the entries of a folder in q.Order, and
// their number.
//
// By name, it reads the names of the sub-folders (a skip scan), counts the
// secrets in the folder, finds by counting how many of them come before
// the page, and reads the page's secrets with LIMIT and OFFSET, and the
// times of the page's sub-folders. By time, the order of the sub-folders
// depends on every secret below them: it reads the times of every secret
// in the folder and of every sub-folder from the index alone (no secret
// is decoded), sorts them, and reads the page's secrets.
func (t *Tx) BrowseFolder(ctx context.Context, q storage.BrowseQuery) ([]coffer.BrowseItem, int, error) {
	items, n, err := t.browseFolder(ctx, q)
	if err != nil {
		return nil, 0, t.errorf("browse folder %q: %w", q.Folder, err)
	}
	return items, n, nil
}

func (t *Tx) browseFolder(ctx context.Context, q storage.BrowseQuery) ([]coffer.BrowseItem, int, error) {
	if err := checkPage(q.Offset, q.Limit); err != nil {
		return nil, 0, err
	}
	if _, err := secretOrder(q.Order); err != nil {
		return nil, 0, err
	}
	if len(q.ProjectIDs) == 0 {
		return nil, 0, nil
	}
	folders, err := t.allSubFolders(ctx, q.FolderQuery)
	if err != nil {
		return nil, 0, err
	}
	var args []any
	where := t.folderConditions(q.FolderQuery, q.ProjectIDs, &args) + ` AND ` + folderKey + ` = ?`
	args = append(args, keysOf(q.Folder).own)
	d := directSecrets{t: t, where: where, args: args}
	switch q.Order {
	case "", coffer.OrderNameAsc, coffer.OrderNameDesc:
		return t.browseByName(ctx, q, folders, d)
	}
	return t.browseByTime(ctx, q, folders, d)
}

// directSecrets selects the secrets directly in a folder that a browse
// lists.
type directSecrets struct {
	t     *Tx
	where string // on the table aliased s
	args  []any
}

// count returns how many there are, with extra conditions.
func (d directSecrets) count(ctx context.Context, cond string, args ...any) (int, error) {
	var n int
	err := d.t.queryRowBuilt(ctx, `SELECT COUNT(*) FROM secrets s WHERE `+d.where+cond,
		append(slices.Clip(d.args), args...)...).Scan(&n)
	return n, d.t.classify(err)
}

// browseByName returns a page of a folder's entries in name order.
func (t *Tx) browseByName(ctx context.Context, q storage.BrowseQuery, folders []string, d directSecrets) ([]coffer.BrowseItem, int, error) {
	desc := q.Order == coffer.OrderNameDesc
	if desc {
		slices.Reverse(folders)
	}
	nSecrets, err := d.count(ctx, "")
	if err != nil {
		return nil, 0, err
	}
	total := len(folders) + nSecrets
	if q.Offset >= total {
		return nil, total, nil
	}
	limit := q.Limit
	if limit == 0 {
		limit = total
	}
	// The entries before the page are the first j folders and the first
	// offset-j secrets, j the number of folders whose place is before
	// offset: folder i's place is i plus the number of secrets before it,
	// which grows with i, so j is found by bisection, counting in the
	// index.
	before := " AND s.name < ?"
	if desc {
		before = " AND s.name > ?"
	}
	var serr error
	j := sort.Search(len(folders), func(i int) bool {
		n, err := d.count(ctx, before, folders[i])
		if err != nil && serr == nil {
			serr = err
		}
		return i+n >= q.Offset
	})
	if serr != nil {
		return nil, 0, serr
	}
	folders = folders[j:]

	// Names are unique in one project's folder: there, the index gives the
	// order either way. Across projects, secrets of one name go by id
	// ascending in both orders.
	order := " ORDER BY s.name ASC, s.id ASC"
	switch {
	case desc && len(q.ProjectIDs) == 1:
		order = " ORDER BY s.name DESC"
	case desc:
		order = " ORDER BY s.name DESC, s.id ASC"
	}
	args := slices.Clip(d.args)
	page := pageClause(&args, q.Offset-j, limit)
	rows, err := t.queryBuilt(ctx, `SELECT `+secretColumns+` FROM secrets s WHERE `+d.where+order+page, args...)
	if err != nil {
		return nil, 0, t.classify(err)
	}
	secrets, err := collect(rows, scanSecret)
	if err != nil {
		return nil, 0, t.classify(err)
	}

	items := make([]coffer.BrowseItem, 0, limit)
	for len(items) < limit && (len(folders) > 0 || len(secrets) > 0) {
		// A sub-folder comes before a secret of its name.
		folderFirst := len(secrets) == 0 || len(folders) > 0 &&
			(folders[0] == secrets[0].Name || (folders[0] < secrets[0].Name) != desc)
		if folderFirst {
			created, updated, err := t.folderTimes(ctx, q.FolderQuery, folders[0])
			if err != nil {
				return nil, 0, err
			}
			items = append(items, coffer.BrowseItem{Name: folders[0], CreatedAt: &created, UpdatedAt: &updated})
			folders = folders[1:]
			continue
		}
		s := secrets[0]
		items = append(items, coffer.BrowseItem{Name: s.Name, Secret: s, CreatedAt: ptr(s.CreatedAt), UpdatedAt: ptr(s.UpdatedAt)})
		secrets = secrets[1:]
	}
	return items, total, nil
}

// folderTimes returns the earliest creation and the latest update of the
// secrets of q below its sub-folder name, from the index alone.
func (t *Tx) folderTimes(ctx context.Context, q storage.FolderQuery, name string) (created, updated time.Time, err error) {
	var args []any
	where := t.folderConditions(q, q.ProjectIDs, &args)
	lo, hi := keyRange(keysOf(q.Folder).base + name)
	args = append(args, lo, hi)
	var c, u int64
	err = t.queryRowBuilt(ctx, `SELECT MIN(s.created_at), MAX(s.updated_at) FROM secrets s WHERE `+where+
		` AND `+folderKey+` >= ? AND `+folderKey+` < ?`, args...).Scan(&c, &u)
	if err != nil {
		return time.Time{}, time.Time{}, t.classify(err)
	}
	return getTime(c), getTime(u), nil
}

// browseEntry is an entry of a browse by time before its secret is read.
type browseEntry struct {
	name, id         string // id is "" for a sub-folder
	created, updated time.Time
}

// browseByTime returns a page of a folder's entries in an order of time.
func (t *Tx) browseByTime(ctx context.Context, q storage.BrowseQuery, folders []string, d directSecrets) ([]coffer.BrowseItem, int, error) {
	entries := make([]browseEntry, 0, len(folders))
	for _, name := range folders {
		created, updated, err := t.folderTimes(ctx, q.FolderQuery, name)
		if err != nil {
			return nil, 0, err
		}
		entries = append(entries, browseEntry{name: name, created: created, updated: updated})
	}
	rows, err := t.queryBuilt(ctx, `SELECT s.name, s.id, s.created_at, s.updated_at FROM secrets s WHERE `+d.where, d.args...)
	if err != nil {
		return nil, 0, t.classify(err)
	}
	secrets, err := collect(rows, func(row Row) (browseEntry, error) {
		var e browseEntry
		var c, u int64
		err := row.Scan(&e.name, &e.id, &c, &u)
		e.created, e.updated = getTime(c), getTime(u)
		return e, err
	})
	if err != nil {
		return nil, 0, t.classify(err)
	}
	entries = append(entries, secrets...)

	byUpdate := q.Order == coffer.OrderUpdatedAtAsc || q.Order == coffer.OrderUpdatedAtDesc
	desc := q.Order == coffer.OrderCreatedAtDesc || q.Order == coffer.OrderUpdatedAtDesc
	slices.SortFunc(entries, func(a, b browseEntry) int {
		ta, tb := a.created, b.created
		if byUpdate {
			ta, tb = a.updated, b.updated
		}
		if c := ta.Compare(tb); c != 0 {
			if desc {
				return -c
			}
			return c
		}
		if (a.id == "") != (b.id == "") { // a sub-folder first
			if a.id == "" {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	total := len(entries)
	if q.Offset >= total {
		return nil, total, nil
	}
	end := total
	if q.Limit > 0 {
		end = min(q.Offset+q.Limit, total)
	}
	entries = entries[q.Offset:end]

	var ids []string
	for _, e := range entries {
		if e.id != "" {
			ids = append(ids, e.id)
		}
	}
	byID := map[string]*coffer.Secret{}
	if len(ids) > 0 {
		var args []any
		rows, err := t.queryBuilt(ctx, `SELECT `+secretColumns+` FROM secrets s WHERE `+t.inList("s.id", ids, &args), args...)
		if err != nil {
			return nil, 0, t.classify(err)
		}
		ss, err := collect(rows, scanSecret)
		if err != nil {
			return nil, 0, t.classify(err)
		}
		for _, s := range ss {
			byID[s.ID] = s
		}
	}
	items := make([]coffer.BrowseItem, 0, len(entries))
	for _, e := range entries {
		it := coffer.BrowseItem{Name: e.name, CreatedAt: ptr(e.created), UpdatedAt: ptr(e.updated)}
		if e.id != "" {
			s, ok := byID[e.id]
			if !ok {
				continue // cannot happen in one transaction
			}
			it.Secret = s
		}
		items = append(items, it)
	}
	return items, total, nil
}

func ptr[T any](v T) *T { return &v }
