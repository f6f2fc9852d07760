package adminapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer"
)

// VersionReader is what the versions route needs of the engine: versions
// with their access times, those the node has not written yet included.
type VersionReader interface {
	// ListVersionsAccessed returns one page of a secret's versions and
	// their number. Returns EINVALID, ENOTFOUND.
	ListVersionsAccessed(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*coffer.Version, int, error)
}

// registerVersions mounts the versions route:
//
//	GET /coffer/v1/secrets/{secret_id}/versions   metadata and last access of a secret's versions
//
// A service without VersionReader leaves the route out (it then answers
// "no such route"); the node asserts that its engine has it.
func (h *Handler) registerVersions(mux *http.ServeMux) {
	vr, ok := h.svc.(VersionReader)
	if !ok {
		return
	}
	mux.Handle("GET /secrets/{secret_id}/versions", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return listVersions(w, r, vr)
	}))
}

// Version is the wire form of a version's metadata. AccessedAt is when its
// data was last handed out, through any API; it is absent for a version
// never read.
type Version struct {
	Revision    uint32     `json:"revision"`
	State       string     `json:"state"`
	Latest      bool       `json:"latest"`
	Description string     `json:"description,omitempty"`
	Size        int        `json:"size"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	AccessedAt  *time.Time `json:"accessed_at,omitempty"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
	DestroyedAt *time.Time `json:"destroyed_at,omitempty"`
}

// VersionPage is one page of versions and the number across all pages.
type VersionPage struct {
	Versions   []Version `json:"versions"`
	TotalCount int       `json:"total_count"`
}

// versionQuery reads the query string: page (from 1), page_size (1 to
// 1000, default 100) and order (asc, by revision, the default, or desc).
func versionQuery(v url.Values) (coffer.VersionFilter, error) {
	f := coffer.VersionFilter{Limit: 100}
	if s := v.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return f, coffer.Invalid("page_size", coffer.ReasonFormat, "page_size must be a number from 1 to 1000")
		}
		f.Limit = n
	}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1<<20 {
			return f, coffer.Invalid("page", coffer.ReasonFormat, "page must be a positive number")
		}
		f.Offset = (n - 1) * f.Limit
	}
	switch v.Get("order") {
	case "", "asc":
	case "desc":
		f.Descending = true
	default:
		return f, coffer.Invalid("order", coffer.ReasonFormat, "order must be asc or desc")
	}
	return f, nil
}

func listVersions(w http.ResponseWriter, r *http.Request, vr VersionReader) error {
	f, err := versionQuery(r.URL.Query())
	if err != nil {
		return err
	}
	vs, total, err := vr.ListVersionsAccessed(r.Context(), r.PathValue("secret_id"), f)
	if err != nil {
		return err
	}
	page := VersionPage{Versions: make([]Version, 0, len(vs)), TotalCount: total}
	for _, v := range vs {
		page.Versions = append(page.Versions, Version{
			Revision: v.Revision, State: string(v.State), Latest: v.Latest, Description: v.Description,
			Size: v.Size, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
			AccessedAt: v.AccessedAt, DisabledAt: v.DisabledAt, DestroyedAt: v.DestroyedAt,
		})
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
