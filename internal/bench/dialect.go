package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// vault speaks Vault KV v2. Secret i is the path {prefix}/s{i} of the
// mount; a version's body is {"data":{"value":"..."}}.
type vault struct {
	base string // {addr}/v1/{mount}
}

func (v *vault) tokenHeader() string { return "X-Vault-Token" }

func (v *vault) target(prefix, name string) target {
	p := prefix + "/" + name
	return target{read: v.base + "/data/" + p, write: v.base + "/data/" + p, remove: v.base + "/metadata/" + p}
}

// create writes the first version: KV v2 creates the path with it.
func (v *vault) create(ctx context.Context, b *Bench, prefix, name string, value []byte) (target, error) {
	t := v.target(prefix, name)
	return t, b.do(ctx, http.MethodPost, t.write, v.writeBody(value), nil)
}

func (v *vault) find(_ context.Context, _ *Bench, prefix string, n int) ([]target, error) {
	out := make([]target, n)
	for i := range out {
		out[i] = v.target(prefix, name(i))
	}
	return out, nil
}

func (v *vault) writeBody(value []byte) []byte {
	b, _ := json.Marshal(map[string]any{"data": map[string]string{"value": string(value)}})
	return b
}

// scaleway speaks Scaleway Secret Manager v1beta1. Secret i is the opaque
// secret named s{i} in the path /{prefix} of the project, addressed by id;
// a read accesses its latest version.
type scaleway struct {
	base    string // {addr}/secret-manager/v1beta1/regions/{region}
	project string
}

func (s *scaleway) tokenHeader() string { return "X-Auth-Token" }

func (s *scaleway) target(id string) target {
	sec := s.base + "/secrets/" + url.PathEscape(id)
	return target{read: sec + "/versions/latest/access", write: sec + "/versions", remove: sec}
}

func (s *scaleway) create(ctx context.Context, b *Bench, prefix, name string, value []byte) (target, error) {
	if s.project == "" {
		return target{}, errors.New("no project to create secrets in")
	}
	req, _ := json.Marshal(map[string]string{"project_id": s.project, "name": name, "path": "/" + prefix, "type": "opaque"})
	var created struct {
		ID string `json:"id"`
	}
	if err := b.do(ctx, http.MethodPost, s.base+"/secrets", req, &created); err != nil {
		return target{}, err
	}
	if created.ID == "" {
		return target{}, errors.New("the server created the secret but returned no id")
	}
	t := s.target(created.ID)
	return t, b.do(ctx, http.MethodPost, t.write, s.writeBody(value), nil)
}

// find lists the secrets of the folder, 100 to a page.
func (s *scaleway) find(ctx context.Context, b *Bench, prefix string, n int) ([]target, error) {
	if s.project == "" {
		return nil, errors.New("no project to find secrets in")
	}
	ids := map[string]string{}
	for page := 1; ; page++ {
		q := url.Values{"project_id": {s.project}, "path": {"/" + prefix}, "page": {strconv.Itoa(page)}, "page_size": {"100"}}
		var list struct {
			Secrets []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"secrets"`
			TotalCount int `json:"total_count"`
		}
		if err := b.do(ctx, http.MethodGet, s.base+"/secrets?"+q.Encode(), nil, &list); err != nil {
			return nil, fmt.Errorf("list the secrets of /%s: %w", prefix, err)
		}
		for _, sec := range list.Secrets {
			ids[sec.Name] = sec.ID
		}
		if len(list.Secrets) == 0 || page*100 >= list.TotalCount {
			break
		}
	}
	out := make([]target, n)
	for i := range out {
		id, ok := ids[name(i)]
		if !ok {
			return nil, fmt.Errorf("no secret %s in /%s: preload it first", name(i), prefix)
		}
		out[i] = s.target(id)
	}
	return out, nil
}

func (s *scaleway) writeBody(value []byte) []byte {
	b, _ := json.Marshal(map[string]string{"data": base64.StdEncoding.EncodeToString(value)})
	return b
}
