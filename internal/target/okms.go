package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
)

// OKMS is an OVHcloud OKMS domain's Secret Manager, API v2. A secret's
// remote id is its path. Like Vault, OKMS keeps JSON objects, written and
// read as the Vault target does (toData, fromData). It authenticates with
// a bearer token, or with the access certificate the HTTP client presents.
type OKMS struct {
	hc *http.Client
	// base is the domain's API root: {address}/api/{okmsId}/v2.
	base  string
	token string
}

// maxOKMSAnswer bounds what is read of one answer: a secret's data is at
// most 64 KB, a page of a listing a few hundred paths.
const maxOKMSAnswer = 4 << 20

// okmsPageSize is the page size of a listing.
const okmsPageSize = 100

func newOKMS(t coffer.Target, hc *http.Client) (*OKMS, error) {
	o := &OKMS{hc: hc, base: strings.TrimRight(t.Address, "/") + "/api/" + url.PathEscape(t.OKMSID) + "/v2"}
	if !t.UsesCertificate() {
		o.token = string(t.Credential)
	}
	return o, nil
}

// okmsVersion is a version as OKMS answers it.
type okmsVersion struct {
	ID    uint32         `json:"id"`
	State string         `json:"state"`
	Data  map[string]any `json:"data"`
}

// okmsSecret is a secret as OKMS answers it.
type okmsSecret struct {
	Path    string       `json:"path"`
	Version *okmsVersion `json:"version"`
}

// okmsError is a refusal of the domain: its status and its errors.
type okmsError struct {
	method, path string
	status       int
	errors       []string
}

func (e *okmsError) Error() string {
	msg := fmt.Sprintf("okms target: %s %s: status %d", e.method, e.path, e.status)
	if len(e.errors) > 0 {
		msg += ": " + strings.Join(e.errors, "; ")
	}
	return msg
}

func isOKMSNotFound(err error) bool {
	var oe *okmsError
	return errors.As(err, &oe) && oe.status == http.StatusNotFound
}

// secretPath is the URL path of a secret: its path as one escaped segment,
// as OVH's SDK sends it.
func secretPath(p string) string { return "/secret/" + url.PathEscape(p) }

// do sends one request and decodes its answer into out (when not nil). It
// returns the answer's headers.
func (o *OKMS) do(ctx context.Context, method, path string, hdr http.Header, body, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("okms target: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "coffer-sync")
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	resp, err := o.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("okms target: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxOKMSAnswer))
	if err != nil {
		return nil, fmt.Errorf("okms target: %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		oe := &okmsError{method: method, path: path, status: resp.StatusCode}
		var e struct {
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(raw, &e) == nil {
			oe.errors = e.Errors
		}
		return nil, oe
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("okms target: %s %s: the answer is not what OKMS answers: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// current returns a secret's current version with its data: nil data when
// that version is not active.
func (o *OKMS) current(ctx context.Context, path string) (*okmsSecret, error) {
	var s okmsSecret
	if _, err := o.do(ctx, http.MethodGet, secretPath(path)+"?includeData=true", nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Push writes value as the secret's new version unless its current
// version holds value already; a secret that does not exist is created.
func (o *OKMS) Push(ctx context.Context, remoteID, name string, value []byte) (string, bool, error) {
	path := remoteID
	if path == "" {
		path = name
	}
	data, err := toData(value)
	if err != nil {
		return "", false, err
	}
	cur, err := o.current(ctx, path)
	switch {
	case isOKMSNotFound(err):
		body := map[string]any{"path": path, "version": map[string]any{"data": data}}
		if _, err := o.do(ctx, http.MethodPost, "/secret", nil, body, nil); err != nil {
			return "", false, err
		}
		return path, true, nil
	case err != nil:
		return "", false, err
	case cur.Version != nil && cur.Version.State == "active" && equalData(cur.Version.Data, data):
		return path, false, nil
	}
	if _, err := o.do(ctx, http.MethodPost, secretPath(path)+"/version", nil, map[string]any{"data": data}, nil); err != nil {
		return "", false, err
	}
	return path, true, nil
}

// Delete removes the secret and all its versions.
func (o *OKMS) Delete(ctx context.Context, remoteID string) error {
	if _, err := o.do(ctx, http.MethodDelete, secretPath(remoteID), nil, nil, nil); err != nil && !isOKMSNotFound(err) {
		return err
	}
	return nil
}

// List returns the domain's secrets whose current version is active, with
// its value, page by page.
func (o *OKMS) List(ctx context.Context) ([]engine.RemoteSecret, error) {
	var out []engine.RemoteSecret
	cursor := ""
	for {
		hdr := http.Header{"X-Pagination-Size": {fmt.Sprint(okmsPageSize)}}
		if cursor != "" {
			hdr.Set("X-Pagination-Cursor", cursor)
		}
		var page []okmsSecret
		h, err := o.do(ctx, http.MethodGet, "/secret", hdr, nil, &page)
		if err != nil {
			return nil, err
		}
		for _, s := range page {
			cur, err := o.current(ctx, s.Path)
			if isOKMSNotFound(err) {
				continue // deleted since the page was read
			} else if err != nil {
				return nil, err
			}
			if cur.Version == nil || cur.Version.Data == nil {
				continue
			}
			value, err := fromData(cur.Version.Data)
			if err != nil {
				return nil, err
			}
			out = append(out, engine.RemoteSecret{Name: s.Path, RemoteID: s.Path, Value: value})
		}
		next := h.Get("X-Pagination-Cursor-Next")
		if next == "" || next == cursor || len(page) == 0 {
			return out, nil
		}
		cursor = next
	}
}
