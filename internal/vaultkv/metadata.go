package vaultkv

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/coffer-dev/coffer"
)

// warnCASMandated is Vault's warning for cas_required=false on a mount that
// requires check-and-set.
const warnCASMandated = `"cas_required" set to false, but is mandated by backend config. This value will be ignored.`

// metadata serves metadata/{path}: read, write, patch, delete and listing.
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request, project string) error {
	op, err := operationOf(r)
	if err != nil {
		return err
	}
	p := r.PathValue("path")
	switch op {
	case opList, opScan:
		return h.list(w, r, project, p, op == opScan, false)
	case opUnsupported:
		return errUnsupported
	}
	if p == "" {
		writeWarning(w, r, warnRoot)
		return nil
	}
	switch op {
	case opRead:
		return h.readMetadata(w, r, project, p)
	case opUpdate:
		return h.writeMetadata(w, r, project, p)
	case opPatch:
		return h.patchMetadata(w, r, project, p)
	}
	return h.deleteMetadata(w, r, project, p)
}

// detailedMetadata serves OpenBao's detailed-metadata/{path}: a listing
// with the metadata of each secret listed.
func (h *Handler) detailedMetadata(w http.ResponseWriter, r *http.Request, project string) error {
	op, err := operationOf(r)
	if err != nil {
		return err
	}
	if op != opList && op != opScan {
		return errUnsupported
	}
	return h.list(w, r, project, r.PathValue("path"), op == opScan, true)
}

// allVersions returns every stored version of a secret, newest first.
func (h *Handler) allVersions(ctx context.Context, secretID string) ([]*coffer.Version, error) {
	var out []*coffer.Version
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, total, err := h.svc.ListVersions(ctx, secretID, coffer.VersionFilter{Descending: true, Offset: len(out)})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) == 0 || len(out) >= total {
			return out, nil
		}
	}
}

// readMetadata answers GET metadata/{path}.
func (h *Handler) readMetadata(w http.ResponseWriter, r *http.Request, project, p string) error {
	ctx := r.Context()
	s, err := h.lookup(ctx, project, p)
	if err != nil {
		return err
	}
	versions, err := h.allVersions(ctx, s.ID)
	if err != nil {
		return err
	}
	writeEnvelope(w, r, http.StatusOK, mountKV, toMetadata(s, versions))
	return nil
}

// writeMetadata answers POST and PUT metadata/{path}: it changes the fields
// given, and creates the secret without a version when there is none. A
// body without any field changes nothing.
func (h *Handler) writeMetadata(w http.ResponseWriter, r *http.Request, project, p string) error {
	body, fields, err := readBody(r)
	if err != nil {
		return err
	}
	defer clear(body)
	u, given, casOff, err := metadataFields(fields, false)
	if err != nil {
		return err
	}
	folder, name, err := parseKey(p)
	if err != nil {
		return err
	}
	if !given {
		writeNoContent(w)
		return nil
	}
	ctx := r.Context()
	if _, _, err := h.svc.PutSecret(ctx, coffer.SecretCreate{ProjectID: project, Path: folder, Name: name}, u); err != nil {
		return err
	}
	return h.metadataWritten(w, r, project, casOff)
}

// patchMetadata answers PATCH metadata/{path}: it changes the fields given
// of an existing secret, custom_metadata key by key.
func (h *Handler) patchMetadata(w http.ResponseWriter, r *http.Request, project, p string) error {
	if err := checkPatchType(r); err != nil {
		return err
	}
	body, fields, err := readBody(r)
	if err != nil {
		return err
	}
	defer clear(body)
	u, given, casOff, err := metadataFields(fields, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	s, err := h.lookup(ctx, project, p)
	if notFound(err) {
		writeEmpty(w, http.StatusNotFound)
		return nil
	} else if err != nil {
		return err
	}
	if given {
		if _, err := h.svc.UpdateSecret(ctx, s.ID, u); err != nil {
			return err
		}
	}
	return h.metadataWritten(w, r, project, casOff)
}

// metadataWritten answers a metadata write: 204, or Vault's warning when
// cas_required was set to false on a mount that requires check-and-set.
func (h *Handler) metadataWritten(w http.ResponseWriter, r *http.Request, project string, casOff bool) error {
	if casOff {
		p, err := h.svc.GetProject(r.Context(), project)
		if err != nil {
			return err
		}
		if p.Settings.CASRequired {
			writeEnvelope(w, r, http.StatusOK, mountKV, nil, warnCASMandated)
			return nil
		}
	}
	writeNoContent(w)
	return nil
}

// deleteMetadata answers DELETE metadata/{path}: the secret and all its
// versions are removed for good. A missing key is no error.
func (h *Handler) deleteMetadata(w http.ResponseWriter, r *http.Request, project, p string) error {
	ctx := r.Context()
	s, err := h.lookup(ctx, project, p)
	if notFound(err) {
		answeredDone(ctx, err)
		writeNoContent(w)
		return nil
	} else if err != nil {
		return err
	}
	if err := h.svc.PurgeSecret(ctx, s.ID); err != nil && !notFound(err) {
		return err
	}
	writeNoContent(w)
	return nil
}

// listed is one key of a recursive listing and its secret.
type listed struct {
	key    string
	secret *coffer.Secret
}

// list answers a listing of the folder p: its secrets and sub-folders, or
// with scan every secret below it, keys relative to p, sorted. OpenBao's
// after (keys after this one) and limit (at most this many) page it;
// exclude_deleted leaves out secrets whose current version is deleted.
// With detailed, key_info holds the metadata of each secret listed. An
// empty listing is a 404.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, project, p string, scan, detailed bool) error {
	q := r.URL.Query()
	folder, err := parseFolder(p)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	excludeDeleted, err := queryBool(r, "exclude_deleted")
	if err != nil {
		return err
	}
	out := listJSON{Keys: []string{}}
	if detailed {
		out.KeyInfo = map[string]metadataJSON{}
	}
	// add lists one key, and reports whether the listing is full.
	add := func(key string, s *coffer.Secret, versions []*coffer.Version) bool {
		if s != nil && (excludeDeleted || detailed) {
			if excludeDeleted && h.currentDeleted(s, versions) {
				return false
			}
			if detailed {
				out.KeyInfo[key] = toMetadata(s, versions)
			}
		}
		out.Keys = append(out.Keys, key)
		return limit > 0 && len(out.Keys) == limit
	}
	ctx := r.Context()
	if scan {
		err = h.scanList(ctx, project, folder, q.Get("after"), excludeDeleted || detailed, add)
	} else {
		remaining := func() int {
			if limit == 0 {
				return listPage
			}
			return min(listPage, limit-len(out.Keys))
		}
		err = h.folderList(ctx, project, folder, q.Get("after"), remaining, excludeDeleted || detailed, add)
	}
	if err != nil {
		return err
	}
	if len(out.Keys) == 0 {
		return coffer.NotFound("folder", folder)
	}
	writeEnvelope(w, r, http.StatusOK, mountKV, out)
	return nil
}

// listPage is how many keys a listing asks the engine for at a time.
const listPage = 1000

// folderList passes the keys directly in a folder after after to add, in
// order, with each secret and its versions when versions is set, until add
// reports the listing full. It reads the folder a page at a time from
// where the last page ended, each page of the size remaining returns (the
// keys the listing still lacks), so that a listing with a limit costs the
// keys it answers and the few that exclude_deleted leaves out, and stops
// when the client leaves.
func (h *Handler) folderList(ctx context.Context, project, folder, after string, remaining func() int, versions bool,
	add func(key string, s *coffer.Secret, versions []*coffer.Version) bool) error {
	for {
		if err := ctx.Err(); err != nil {
			return err // the client has left
		}
		page, err := h.svc.ListKeys(ctx, coffer.KeyFilter{ProjectID: project, Folder: folder, After: after, Limit: remaining(), Versions: versions})
		if err != nil {
			return err
		}
		for _, k := range page {
			if add(k.Key, k.Secret, k.Versions) {
				return nil
			}
		}
		if len(page) == 0 {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// scanList passes every secret below a folder to add, keyed by its path
// relative to the folder, in order of keys after after, with its versions
// when versions is set, until add reports the listing full.
func (h *Handler) scanList(ctx context.Context, project, folder, after string, versions bool,
	add func(key string, s *coffer.Secret, versions []*coffer.Version) bool) error {
	items, err := h.scanFolder(ctx, project, folder)
	if err != nil {
		return err
	}
	slices.SortFunc(items, func(a, b listed) int { return strings.Compare(a.key, b.key) })
	if after != "" {
		items = items[sort.Search(len(items), func(i int) bool { return items[i].key > after }):]
	}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		var vs []*coffer.Version
		if versions {
			vs, err = h.allVersions(ctx, it.secret.ID)
			if notFound(err) {
				continue // deleted meanwhile
			} else if err != nil {
				return err
			}
		}
		if add(it.key, it.secret, vs) {
			return nil
		}
	}
	return nil
}

// currentDeleted reports whether the current version of a secret is
// deleted: disabled, scheduled for deletion, or past its deletion time.
func (h *Handler) currentDeleted(s *coffer.Secret, versions []*coffer.Version) bool {
	for _, v := range versions {
		if v.Revision == s.LastRevision {
			return v.State != coffer.VersionDestroyed && deletionPassed(v, h.now())
		}
	}
	return false
}

// scanFolder returns every secret below a folder, keyed by its path
// relative to the folder.
func (h *Handler) scanFolder(ctx context.Context, project, folder string) ([]listed, error) {
	base := ""
	if folder != "/" {
		base = folder[1:] + "/"
	}
	var out []listed
	for offset := 0; ; {
		if err := ctx.Err(); err != nil {
			return nil, err // the client has left
		}
		page, total, err := h.svc.ListSecrets(ctx, coffer.SecretFilter{ProjectID: project, PathPrefix: folder, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, s := range page {
			if key, ok := strings.CutPrefix(s.FullPath(), base); ok {
				out = append(out, listed{key: key, secret: s})
			}
		}
		offset += len(page)
		if len(page) == 0 || offset >= total {
			return out, nil
		}
	}
}
