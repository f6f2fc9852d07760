package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Mount is one line of the routes table: a dialect's handler at a prefix.
//
// The handler serves paths relative to the prefix ("/v1/secret/data/a" is
// "/secret/data/a" to the handler mounted at "/v1") and answers every path
// under it, unknown ones in its own format: it does not know where it is
// mounted. A "{name}" segment of the prefix matches any one segment, and
// the handler reads it with r.PathValue(name).
//
// A request belongs to the mount whose prefix it starts with. Where two
// prefixes match (NAVER's /api/v1 and OKMS's /api/{okmsId}/v2 both match
// /api/v1/v2/...), the one with a literal segment where the other has a
// wildcard, reading from the left, wins; then the longer one. The owner of
// a request is thus always one mount, which serves it, answers its errors
// and names it in the audit trail.
type Mount struct {
	// Name is the dialect's name in audit records: scaleway, vaultkv,
	// okms, admin.
	Name   string
	Prefix string
	// Handler serves the requests under Prefix.
	Handler http.Handler
	// Errors answers, in the dialect's format, what the server refuses
	// before or instead of the handler.
	Errors ErrorWriter
}

// ErrorWriter answers in a dialect's own format what the server decides
// for it.
type ErrorWriter interface {
	// WriteBadPath answers a request whose path has ".", ".." or empty
	// segments, which no dialect serves: a router would resolve them, and
	// turn an operation on one resource into one on another.
	WriteBadPath(w http.ResponseWriter, r *http.Request)
	// WriteInternalError answers with a 500: the server uses it when a
	// request's audit record cannot be written, or its handler panicked.
	WriteInternalError(w http.ResponseWriter, r *http.Request)
}

// mount is a Mount with its prefix split into segments.
type mount struct {
	Mount
	segs []string
	// wild[i] is the name of segment i when it is a wildcard, else "".
	wild []string
	// key is the prefix with wildcards blanked, to find two mounts that
	// would serve the same paths.
	key string
	// series are the metrics of its routes (metrics.go).
	series routeSeries
}

func newMount(m Mount) (*mount, error) {
	if m.Name == "" || m.Handler == nil || m.Errors == nil {
		return nil, fmt.Errorf("server: the mount at %q needs a name, a handler and an error writer", m.Prefix)
	}
	if m.Prefix == "" || m.Prefix[0] != '/' || strings.HasSuffix(m.Prefix, "/") || !cleanPath(m.Prefix) {
		return nil, fmt.Errorf("server: mount prefix %q must be a clean absolute path without a trailing slash", m.Prefix)
	}
	mt := &mount{Mount: m, segs: strings.Split(m.Prefix[1:], "/")}
	keys := make([]string, len(mt.segs))
	for i, seg := range mt.segs {
		name, isWild := strings.CutPrefix(seg, "{")
		if !isWild {
			if strings.ContainsAny(seg, "{}") {
				return nil, fmt.Errorf("server: mount prefix %q: malformed segment %q", m.Prefix, seg)
			}
			mt.wild = append(mt.wild, "")
			keys[i] = seg
			continue
		}
		name, ok := strings.CutSuffix(name, "}")
		if !ok || name == "" || strings.ContainsAny(name, "{}.") {
			return nil, fmt.Errorf("server: mount prefix %q: malformed wildcard %q", m.Prefix, seg)
		}
		mt.wild = append(mt.wild, name)
		keys[i] = "{}"
	}
	mt.key = strings.Join(keys, "/")
	return mt, nil
}

// sortMounts orders mounts so that the first that matches a path is its
// owner: see Mount.
func sortMounts(ms []*mount) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		for k := 0; k < len(a.segs) && k < len(b.segs); k++ {
			if aw, bw := a.wild[k] != "", b.wild[k] != ""; aw != bw {
				return bw
			}
		}
		return len(a.segs) > len(b.segs)
	})
}

// match returns the rest of an escaped path p below the mount ("/" at
// least), or false when p is not under it.
func (m *mount) match(p string) (rest string, ok bool) {
	if p == "" || p[0] != '/' {
		return "", false
	}
	i := 1
	for k, seg := range m.segs {
		j := strings.IndexByte(p[i:], '/')
		end := len(p)
		if j >= 0 {
			end = i + j
		}
		got := p[i:end]
		if m.wild[k] == "" && got != seg || m.wild[k] != "" && got == "" {
			return "", false
		}
		if end == len(p) {
			if k != len(m.segs)-1 {
				return "", false
			}
			return "/", true
		}
		i = end + 1
	}
	return p[i-1:], true
}

// route finds the mount of a request and returns it with the request its
// handler gets: the path below the prefix, and the prefix's wildcards as
// path values. The server keeps that request to read the route its
// handler's mux matched (r.Pattern) for the audit record.
func (s *Server) route(r *http.Request) (*mount, *http.Request) {
	escaped := r.URL.RawPath != ""
	p := r.URL.Path
	if escaped {
		p = r.URL.RawPath
	}
	for _, m := range s.mounts {
		rest, ok := m.match(p)
		if !ok {
			continue
		}
		inner := r.WithContext(r.Context())
		u := *r.URL
		inner.URL = &u
		if escaped {
			dec, err := url.PathUnescape(rest)
			if err != nil {
				// The server decoded the whole path before; a part of
				// it decodes too.
				dec = rest
			}
			inner.URL.Path, inner.URL.RawPath = dec, rest
		} else {
			inner.URL.Path, inner.URL.RawPath = rest, ""
		}
		if err := m.setValues(inner, p, escaped); err != nil {
			continue
		}
		return m, inner
	}
	return nil, nil
}

// setValues sets the prefix's wildcards of r from the path p.
func (m *mount) setValues(r *http.Request, p string, escaped bool) error {
	segs := strings.SplitN(p[1:], "/", len(m.segs)+1)
	for k, name := range m.wild {
		if name == "" {
			continue
		}
		v := segs[k]
		if escaped {
			dec, err := url.PathUnescape(v)
			if err != nil {
				return errors.New("undecodable segment")
			}
			v = dec
		}
		r.SetPathValue(name, v)
	}
	return nil
}
