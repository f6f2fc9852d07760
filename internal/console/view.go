package console

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

//go:embed templates
var templates embed.FS

type pageTemplate = template.Template

// view is what every page's template gets.
type view struct {
	Title string
	// Caller is who is logged in; nil on the login page.
	Caller *coffer.Caller
	// CSRF is the token every form that changes something carries.
	CSRF string
	// Error is a message shown at the top of the page.
	Error string
	Data  any
	// anonymous pages (login, errors without a session) show no menu.
	anonymous bool
}

func (v *view) fill(r *http.Request) {
	if v.anonymous {
		v.Caller = nil
		return
	}
	if v.Caller == nil {
		v.Caller = coffer.CallerFromContext(r.Context())
	}
	if v.Caller != nil && v.CSRF == "" {
		v.CSRF = csrfOf(r)
	}
}

var funcs = template.FuncMap{
	// ui makes a console address from a path below the mount.
	"ui": func(p string) string { return Prefix + p },
	"join": func(s []string) string {
		return strings.Join(s, ", ")
	},
	"utc":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"size":   func(n int) string { return sizeOf(int64(n)) },
	"crumbs": crumbs,
	"parent": func(p string) string {
		if i := strings.LastIndexByte(p, '/'); i > 0 {
			return p[:i]
		}
		return "/"
	},
	"child": func(folder, name string) string {
		if folder == "/" {
			return "/" + name
		}
		return folder + "/" + name
	},
	"add": func(a, b int) int { return a + b },
	"dur": func(d time.Duration) string { return d.String() },
}

// crumb is one link of a folder's breadcrumbs.
type crumb struct{ Name, Path string }

// crumbs returns the breadcrumbs of a folder path: "/", "/a", "/a/b".
func crumbs(p string) []crumb {
	out := []crumb{{Name: "/", Path: "/"}}
	if p == "/" || p == "" {
		return out
	}
	acc := ""
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		acc += "/" + seg
		out = append(out, crumb{Name: seg, Path: acc})
	}
	return out
}

func sizeOf(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// pageNames are the pages, each templates/<name>.html with the layout.
var pageNames = []string{"login", "error", "projects", "browse", "secret", "newsecret", "editsecret", "confirm",
	"reveal", "diff", "audit", "verify", "principals", "keys", "newkey", "policies", "keyvaults", "vaultsecrets", "rotation"}

func parsePages() map[string]*pageTemplate {
	out := map[string]*pageTemplate{}
	for _, name := range pageNames {
		t := template.Must(template.New(name).Funcs(funcs).ParseFS(templates, "templates/layout.html", "templates/"+name+".html"))
		out[name] = t
	}
	return out
}
