package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coffer-dev/coffer"
)

// pageSize is the number of rows of a listing page.
const pageSize = 50

func (h *Handler) registerSecrets(mux *http.ServeMux) {
	mux.Handle("GET /projects/{project}/{$}", h.page(h.browse))
	mux.Handle("GET /projects/{project}/new", h.page(h.newSecretForm))
	mux.Handle("POST /projects/{project}/secrets", h.action(h.createSecret))
	mux.Handle("GET /secrets/{id}/{$}", h.page(h.secret))
	mux.Handle("GET /secrets/{id}/edit", h.page(h.editSecretForm))
	mux.Handle("POST /secrets/{id}/edit", h.action(h.updateSecret))
	mux.Handle("GET /secrets/{id}/delete", h.page(h.confirmDeleteSecret))
	mux.Handle("POST /secrets/{id}/delete", h.action(h.deleteSecret))
	mux.Handle("POST /secrets/{id}/restore", h.action(h.restoreSecret))
	mux.Handle("POST /secrets/{id}/versions", h.action(h.createVersion))
	mux.Handle("POST /secrets/{id}/versions/{rev}/reveal", h.action(h.reveal))
	mux.Handle("POST /secrets/{id}/versions/{rev}/enable", h.action(h.versionAction(h.svc.EnableVersion)))
	mux.Handle("POST /secrets/{id}/versions/{rev}/disable", h.action(h.versionAction(h.svc.DisableVersion)))
	mux.Handle("POST /secrets/{id}/versions/{rev}/restore", h.action(h.versionAction(h.svc.RestoreVersion)))
	mux.Handle("GET /secrets/{id}/versions/{rev}/delete", h.page(h.confirmVersion("delete")))
	mux.Handle("POST /secrets/{id}/versions/{rev}/delete", h.action(h.versionAction(h.svc.ScheduleVersionDeletion)))
	mux.Handle("GET /secrets/{id}/versions/{rev}/destroy", h.page(h.confirmVersion("destroy")))
	mux.Handle("POST /secrets/{id}/versions/{rev}/destroy", h.action(h.versionAction(h.svc.DestroyVersion)))
	mux.Handle("GET /secrets/{id}/diff", h.page(h.diff))
	mux.Handle("GET /secrets/{id}/rotation", h.page(h.rotationHistory))
	mux.Handle("POST /secrets/{id}/rotate", h.action(h.rotate(h.svc.ExecuteRotation)))
	mux.Handle("POST /secrets/{id}/auto-rotation", h.action(h.enableAutoRotation))
	mux.Handle("POST /secrets/{id}/auto-rotation/disable", h.action(h.disableAutoRotation))
	mux.Handle("POST /secrets/{id}/retry-rotation", h.action(h.rotate(h.svc.RetryRotation)))
}

// pageOf reads the page number of a listing (1 when absent).
func pageOf(r *http.Request) (int, error) {
	s := r.URL.Query().Get("page")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1<<20 {
		return 0, coffer.Invalid("page", coffer.ReasonFormat, "The page must be a positive number.")
	}
	return n, nil
}

// browseView is what the folder page shows.
type browseView struct {
	Project, Path, Name, Tag, Type string
	Types                          []coffer.SecretType
	Rights                         coffer.Rights
	Items                          []coffer.BrowseItem
	Total, From, To                int
	Prev, Next                     string
}

// browse lists a folder of a project: its sub-folders and secrets, one
// page at a time, filtered by tag and type; with a name, the secrets of
// that name in the folder and below.
func (h *Handler) browse(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := browseView{Project: r.PathValue("project"), Path: q.Get("path"), Name: strings.TrimSpace(q.Get("name")),
		Tag: strings.TrimSpace(q.Get("tag")), Type: q.Get("type"), Types: coffer.SecretTypes[:]}
	if v.Path == "" {
		v.Path = "/"
	}
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	var tags []string
	if v.Tag != "" {
		tags = []string{v.Tag}
	}
	offset := (page - 1) * pageSize
	if v.Name != "" {
		var secrets []*coffer.Secret
		secrets, v.Total, err = h.svc.ListSecrets(r.Context(), coffer.SecretFilter{ProjectID: v.Project, Name: v.Name,
			PathPrefix: v.Path, Tags: tags, Type: coffer.SecretType(v.Type), Offset: offset, Limit: pageSize})
		for _, s := range secrets {
			v.Items = append(v.Items, coffer.BrowseItem{Name: s.Name, Secret: s})
		}
	} else {
		v.Items, v.Total, err = h.svc.BrowseSecrets(r.Context(), coffer.BrowseFilter{ProjectID: v.Project, Prefix: v.Path,
			Tags: tags, Type: coffer.SecretType(v.Type), Offset: offset, Limit: pageSize})
	}
	if err != nil {
		return err
	}
	// What the caller may do here decides the buttons shown; each action
	// is authorized again when asked for.
	if v.Rights, err = h.svc.Rights(r.Context(), v.Project, v.Path); err != nil {
		return err
	}
	v.From, v.To = offset+1, offset+len(v.Items)
	if len(v.Items) == 0 {
		v.From = 0
	}
	link := func(p int) string {
		u := url.Values{"path": {v.Path}, "page": {strconv.Itoa(p)}}
		for k, x := range map[string]string{"name": v.Name, "tag": v.Tag, "type": v.Type} {
			if x != "" {
				u.Set(k, x)
			}
		}
		return Prefix + "/projects/" + url.PathEscape(v.Project) + "/?" + u.Encode()
	}
	if page > 1 {
		v.Prev = link(page - 1)
	}
	if v.To < v.Total {
		v.Next = link(page + 1)
	}
	h.render(w, r, http.StatusOK, "browse", &view{Title: v.Path, Data: v})
	return nil
}

func (h *Handler) newSecretForm(w http.ResponseWriter, r *http.Request) error {
	path := r.URL.Query().Get("path")
	if path == "" {
		path = "/"
	}
	h.render(w, r, http.StatusOK, "newsecret", &view{Title: "New secret", Data: struct {
		Project, Path string
		Types         []coffer.SecretType
	}{r.PathValue("project"), path, coffer.SecretTypes[:]}})
	return nil
}

// tagsOf splits a comma-separated list of tags.
func tagsOf(s string) []string {
	tags := []string{}
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

func (h *Handler) createSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.CreateSecret(r.Context(), coffer.SecretCreate{
		ProjectID: r.PathValue("project"), Path: r.PostFormValue("path"), Name: r.PostFormValue("name"),
		Type: coffer.SecretType(r.PostFormValue("type")), Description: r.PostFormValue("description"),
		Tags: tagsOf(r.PostFormValue("tags")), Protected: r.PostFormValue("protected") == "1",
	})
	if err != nil {
		return err
	}
	redirect(w, "/secrets/"+url.PathEscape(s.ID)+"/")
	return nil
}

// versionRow is a version with the stages the secret gives it.
type versionRow struct {
	*coffer.Version
	Stages string
}

// secretView is what the secret page shows.
type secretView struct {
	*coffer.SecretView
	Versions         []versionRow
	KVRows           []struct{}
	DiffFrom, DiffTo string
	Prev, Next       string
}

// secret shows a secret, its versions (newest first, a page at a time)
// and the actions the caller may take.
func (h *Handler) secret(w http.ResponseWriter, r *http.Request) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	sv, err := h.svc.SecretVersions(r.Context(), id, coffer.VersionFilter{Descending: true, Offset: (page - 1) * pageSize, Limit: pageSize})
	if err != nil {
		return err
	}
	v := secretView{SecretView: sv, KVRows: make([]struct{}, 3)}
	for _, ver := range sv.Versions {
		var stages []string
		for name, rev := range sv.Secret.Stages {
			if rev == ver.Revision {
				stages = append(stages, name)
			}
		}
		sort.Strings(stages)
		v.Versions = append(v.Versions, versionRow{Version: ver, Stages: strings.Join(stages, ", ")})
	}
	if len(sv.Versions) >= 2 {
		v.DiffFrom, v.DiffTo = strconv.Itoa(int(sv.Versions[1].Revision)), strconv.Itoa(int(sv.Versions[0].Revision))
	}
	base := Prefix + "/secrets/" + url.PathEscape(id) + "/?page="
	if page > 1 {
		v.Prev = base + strconv.Itoa(page-1)
	}
	if page*pageSize < sv.Total {
		v.Next = base + strconv.Itoa(page+1)
	}
	h.render(w, r, http.StatusOK, "secret", &view{Title: sv.Secret.Name, Data: v})
	return nil
}

func (h *Handler) editSecretForm(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.GetSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "editsecret", &view{Title: "Edit " + s.Name, Data: s})
	return nil
}

func (h *Handler) updateSecret(w http.ResponseWriter, r *http.Request) error {
	name, path, desc := r.PostFormValue("name"), r.PostFormValue("path"), r.PostFormValue("description")
	tags := tagsOf(r.PostFormValue("tags"))
	s, err := h.svc.UpdateSecret(r.Context(), r.PathValue("id"), coffer.SecretUpdate{Name: &name, Path: &path, Description: &desc, Tags: &tags})
	if err != nil {
		return err
	}
	redirect(w, "/secrets/"+url.PathEscape(s.ID)+"/")
	return nil
}

// confirmView is a confirmation page of a destructive action.
type confirmView struct {
	Title, Text, Button string
	Action, Cancel      string
}

func (h *Handler) confirmDeleteSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.GetSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	base := Prefix + "/secrets/" + url.PathEscape(s.ID) + "/"
	h.render(w, r, http.StatusOK, "confirm", &view{Title: "Delete secret", Data: confirmView{
		Title: "Delete secret " + s.FullPath() + "?", Button: "Delete secret " + s.Name,
		Text:   "The secret and its versions are scheduled for deletion; they can be restored until they are purged.",
		Action: base + "delete", Cancel: base,
	}})
	return nil
}

func (h *Handler) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := h.svc.DeleteSecret(r.Context(), id); err != nil {
		return err
	}
	redirect(w, "/secrets/"+url.PathEscape(id)+"/")
	return nil
}

func (h *Handler) restoreSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.RestoreSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	redirect(w, "/secrets/"+url.PathEscape(s.ID)+"/")
	return nil
}

// revisionOf reads the {rev} of a route: a revision number.
func revisionOf(r *http.Request) (coffer.Revision, error) {
	rev, err := coffer.ParseRevision(r.PathValue("rev"))
	if err == nil && rev.Kind != coffer.RevisionNumber {
		err = coffer.Invalid("revision", coffer.ReasonFormat, "A revision number is needed.")
	}
	return rev, err
}

// confirmVersion asks before a version is deleted or destroyed, naming
// the revision.
func (h *Handler) confirmVersion(what string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		rev, err := revisionOf(r)
		if err != nil {
			return err
		}
		s, err := h.svc.GetSecret(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		base := Prefix + "/secrets/" + url.PathEscape(s.ID) + "/"
		cv := confirmView{Action: base + "versions/" + rev.String() + "/" + what, Cancel: base}
		if what == "destroy" {
			cv.Title = "Destroy revision " + rev.String() + " of " + s.FullPath() + "?"
			cv.Text = "The value of revision " + rev.String() + " is erased for good; this cannot be undone."
			cv.Button = "Destroy revision " + rev.String()
		} else {
			cv.Title = "Delete revision " + rev.String() + " of " + s.FullPath() + "?"
			cv.Text = "Revision " + rev.String() + " is scheduled for deletion; it can be restored until it is purged."
			cv.Button = "Delete revision " + rev.String()
		}
		h.render(w, r, http.StatusOK, "confirm", &view{Title: cv.Title, Data: cv})
		return nil
	}
}

// versionAction serves an action on one version: one engine call, then
// back to the secret.
func (h *Handler) versionAction(fn func(ctx context.Context, secretID string, rev coffer.Revision) (*coffer.Version, error)) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		rev, err := revisionOf(r)
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		if _, err := fn(r.Context(), id, rev); err != nil {
			return err
		}
		redirect(w, "/secrets/"+url.PathEscape(id)+"/")
		return nil
	}
}

// versionData reads a new version's value from the form: the key-value
// editor's rows for a key_value secret (k and v, in pairs), else an
// uploaded file, else the text area. The caller wipes it.
func (h *Handler) versionData(r *http.Request) ([]byte, error) {
	if ks, ok := r.PostForm["k"]; ok {
		vs := r.PostForm["v"]
		if len(vs) != len(ks) {
			return nil, coffer.Invalid("data", coffer.ReasonFormat, "Each key needs a value.")
		}
		obj := map[string]string{}
		for i, k := range ks {
			k = strings.TrimSpace(k)
			if k == "" {
				if vs[i] != "" {
					return nil, coffer.Invalid("data", coffer.ReasonFormat, "A value has no key.")
				}
				continue
			}
			if _, dup := obj[k]; dup {
				return nil, coffer.Invalid("data", coffer.ReasonFormat, "The key "+strconv.Quote(k)+" is given twice.")
			}
			obj[k] = vs[i]
		}
		if len(obj) == 0 {
			return nil, coffer.Invalid("data", coffer.ReasonFormat, "Give at least one key and its value.")
		}
		return json.Marshal(obj)
	}
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, coffer.Invalid("file", coffer.ReasonFormat, "The file could not be read.")
			}
			defer f.Close()
			return io.ReadAll(f)
		}
	}
	if v := r.PostFormValue("value"); v != "" {
		return []byte(v), nil
	}
	return nil, coffer.Invalid("data", coffer.ReasonFormat, "The new version needs a value.")
}

func (h *Handler) createVersion(w http.ResponseWriter, r *http.Request) error {
	if r.MultipartForm != nil {
		defer func() { _ = r.MultipartForm.RemoveAll() }()
	}
	data, err := h.versionData(r)
	if err != nil {
		return err
	}
	defer clear(data)
	id := r.PathValue("id")
	if _, _, err := h.svc.CreateVersion(r.Context(), id, coffer.VersionCreate{Data: data, Description: r.PostFormValue("description")}); err != nil {
		return err
	}
	redirect(w, "/secrets/"+url.PathEscape(id)+"/")
	return nil
}

// pair is one key and value of a revealed key_value version.
type pair struct{ Key, Value string }

// revealView is what the reveal page shows: the value, as key-value pairs
// when it is a flat JSON object, else as text.
type revealView struct {
	Secret  *coffer.Secret
	Version *coffer.Version
	Pairs   []pair
	Text    string
}

// reveal reads a version's value (one engine call, one audit record) and
// shows it on a page that is never cached.
func (h *Handler) reveal(w http.ResponseWriter, r *http.Request) error {
	rev, err := revisionOf(r)
	if err != nil {
		return err
	}
	s, ver, data, err := h.svc.AccessVersion(r.Context(), r.PathValue("id"), rev)
	if err != nil {
		return err
	}
	defer data.Wipe()
	v := revealView{Secret: s, Version: ver}
	var obj map[string]any
	if s.Type == coffer.TypeKeyValue && json.Unmarshal(data, &obj) == nil {
		for k, x := range obj {
			text, ok := x.(string)
			if !ok {
				b, _ := json.Marshal(x)
				text = string(b)
			}
			v.Pairs = append(v.Pairs, pair{Key: k, Value: text})
		}
		sort.Slice(v.Pairs, func(i, j int) bool { return v.Pairs[i].Key < v.Pairs[j].Key })
	} else if utf8.Valid(data) {
		v.Text = string(data)
	} else {
		v.Text = "(binary, " + sizeOf(int64(len(data))) + ": read it through an API)"
	}
	h.render(w, r, http.StatusOK, "reveal", &view{Title: s.Name + " revision " + rev.String(), Data: v})
	return nil
}

// diff compares the keys of two versions of a key_value secret.
func (h *Handler) diff(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err := coffer.ParseRevision(q.Get("from"))
	if err != nil {
		return err
	}
	to, err := coffer.ParseRevision(q.Get("to"))
	if err != nil {
		return err
	}
	d, err := h.svc.DiffVersions(r.Context(), r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "diff", &view{Title: "Compare " + d.Secret.Name, Data: d})
	return nil
}

// rotate opens a rotation job now (or retries a failed one).
func (h *Handler) rotate(fn func(ctx context.Context, secretID string) (*coffer.RotationTicket, error)) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if _, err := fn(r.Context(), id); err != nil {
			return err
		}
		redirect(w, "/secrets/"+url.PathEscape(id)+"/rotation")
		return nil
	}
}

// rotationHistory shows the rotation records of a secret's logs.
func (h *Handler) rotationHistory(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	recs, total, err := h.svc.SecretLogs(r.Context(), id, coffer.SecretLogQuery{Keyword: "rotation", Limit: 100})
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "rotation", &view{Title: "Rotation", Data: struct {
		SecretID string
		Records  []*coffer.AuditRecord
		Total    int
	}{id, recs, total}})
	return nil
}

// enableAutoRotation turns automatic rotation on, every days days, firing
// a trigger ("" keeps the linked one).
func (h *Handler) enableAutoRotation(w http.ResponseWriter, r *http.Request) error {
	days := 0
	if s := strings.TrimSpace(r.PostFormValue("days")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return coffer.Invalid("days", coffer.ReasonFormat, "The period must be a number of days.")
		}
		days = n
	}
	s, err := h.svc.EnableAutoRotation(r.Context(), r.PathValue("id"), days, strings.TrimSpace(r.PostFormValue("trigger")))
	if err != nil {
		return err
	}
	redirect(w, "/secrets/"+url.PathEscape(s.ID)+"/")
	return nil
}

func (h *Handler) disableAutoRotation(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.DisableAutoRotation(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	redirect(w, "/secrets/"+url.PathEscape(s.ID)+"/")
	return nil
}
