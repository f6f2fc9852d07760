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

// listed is one key of a listing: a secret, or a folder (its name ends
// with a slash).
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
	ctx := r.Context()
	var items []listed
	if scan {
		items, err = h.scanFolder(ctx, project, folder)
	} else {
		items, err = h.browseFolder(ctx, project, folder)
	}
	if err != nil {
		return err
	}
	slices.SortFunc(items, func(a, b listed) int { return strings.Compare(a.key, b.key) })
	if after := q.Get("after"); after != "" {
		items = items[sort.Search(len(items), func(i int) bool { return items[i].key > after }):]
	}
	out := listJSON{Keys: []string{}}
	if detailed {
		out.KeyInfo = map[string]metadataJSON{}
	}
	for _, it := range items {
		if limit > 0 && len(out.Keys) == limit {
			break
		}
		if it.secret != nil && (excludeDeleted || detailed) {
			versions, err := h.allVersions(ctx, it.secret.ID)
			if notFound(err) {
				continue // deleted meanwhile
			} else if err != nil {
				return err
			}
			if excludeDeleted && h.currentDeleted(it.secret, versions) {
				continue
			}
			if detailed {
				out.KeyInfo[it.key] = toMetadata(it.secret, versions)
			}
		}
		out.Keys = append(out.Keys, it.key)
	}
	if len(out.Keys) == 0 {
		return coffer.NotFound("folder", folder)
	}
	writeEnvelope(w, r, http.StatusOK, mountKV, out)
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

// browseFolder returns the secrets and sub-folders directly in a folder.
func (h *Handler) browseFolder(ctx context.Context, project, folder string) ([]listed, error) {
	var out []listed
	for offset := 0; ; {
		page, total, err := h.svc.BrowseSecrets(ctx, coffer.BrowseFilter{ProjectID: project, Prefix: folder, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, it := range page {
			if it.Secret == nil {
				out = append(out, listed{key: it.Name + "/"})
			} else {
				out = append(out, listed{key: it.Name, secret: it.Secret})
			}
		}
		offset += len(page)
		if len(page) == 0 || offset >= total {
			return out, nil
		}
	}
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
