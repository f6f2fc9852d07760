package vaultkv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/coffer-dev/coffer"
)

// Warnings Vault gives for paths of the mount that no endpoint serves.
const (
	warnRoot        = "Non-listing operations on the root of a K/V v2 mount are not supported."
	warnInvalidPath = "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv %s' for this operation."
)

// invalidPath answers the paths of the mount that are no endpoint.
func (h *Handler) invalidPath(w http.ResponseWriter, r *http.Request, _ string) error {
	op, err := operationOf(r)
	if err != nil {
		return err
	}
	if op == opUnsupported {
		return errUnsupported
	}
	writeWarning(w, r, fmt.Sprintf(warnInvalidPath, op.subcommand()))
	return nil
}

// mountRoot answers the bare endpoint names (data, delete, ...): Vault
// serves nothing at the root of those.
func (h *Handler) mountRoot(w http.ResponseWriter, r *http.Request, _ string) error {
	if op, err := operationOf(r); err != nil {
		return err
	} else if op == opUnsupported {
		return errUnsupported
	}
	writeWarning(w, r, warnRoot)
	return nil
}

// data serves data/{path}: read, write, patch and soft delete.
func (h *Handler) data(w http.ResponseWriter, r *http.Request, project string) error {
	op, err := operationOf(r)
	if err != nil {
		return err
	}
	p := r.PathValue("path")
	if p == "" {
		return h.mountRoot(w, r, project)
	}
	if op == opUnsupported || op == opList || op == opScan {
		return errUnsupported
	}
	if strings.HasSuffix(p, "/") {
		// Vault's data endpoint takes no folder.
		writeWarning(w, r, fmt.Sprintf(warnInvalidPath, op.subcommand()))
		return nil
	}
	switch op {
	case opRead:
		return h.readData(w, r, project, p)
	case opUpdate:
		return h.writeData(w, r, project, p)
	case opPatch:
		return h.patchData(w, r, project, p)
	}
	return h.deleteData(w, r, project, p)
}

// lookup returns the secret at a KV path.
func (h *Handler) lookup(ctx context.Context, project, p string) (*coffer.Secret, error) {
	folder, name, err := parseKey(p)
	if err != nil {
		return nil, err
	}
	// Every use is followed by an operation by id that checks its own
	// right: reading metadata, values, writing or deleting.
	return h.svc.LocateSecret(ctx, project, folder, name)
}

// readVersion reads the version of the secret at p that a data or subkeys
// read asks for, ?version= else the current one, in one engine call. A HEAD
// request tells whether the version can be read without reading it, so
// that it fires no expire-once-accessed policy. A version that exists but
// cannot be read comes back with Readable false. Returns ENOTFOUND when the
// secret or the version does not exist, EPRECONDITION when its data is not
// a JSON object.
func (h *Handler) readVersion(r *http.Request, project, p string) (*coffer.VersionReadout, error) {
	rev, err := queryVersion(r)
	if err != nil {
		return nil, err
	}
	folder, name, err := parseKey(p)
	if err != nil {
		return nil, err
	}
	rd, err := h.svc.ReadVersion(r.Context(), coffer.VersionRead{
		ProjectID: project, Path: folder, Name: name, Revision: rev,
		Data: r.Method != http.MethodHead, JSONObject: true,
	})
	if e := coffer.AsError(err); e != nil && e.Precondition == coffer.PreconditionNotJSONObject {
		return nil, coffer.Precondition(e.Precondition, e.Resource, e.ResourceID,
			fmt.Sprintf("version %s of the secret at %q does not hold a JSON object, which is all the KV v2 API can return: read it through the Scaleway API", e.ResourceID, truncate(p, 128)))
	} else if err != nil {
		return nil, err
	}
	if rd.Version == nil {
		return nil, coffer.NotFound("secret_version", "current")
	}
	return rd, nil
}

// readData answers GET data/{path}: 200 with the data and its metadata, 404
// with the metadata alone for a deleted or destroyed version, and a plain
// 404 when there is no such secret or version.
func (h *Handler) readData(w http.ResponseWriter, r *http.Request, project, p string) error {
	rd, err := h.readVersion(r, project, p)
	if err != nil {
		return err
	}
	defer rd.Data.Wipe()
	out := dataJSON{Metadata: toVersionMetadata(rd.Secret, rd.Version)}
	if !rd.Readable {
		writeEnvelope(w, r, http.StatusNotFound, mountKV, out)
		return nil
	}
	if rd.Data != nil {
		out.Data = json.RawMessage(rd.Data)
	}
	writeEnvelope(w, r, http.StatusOK, mountKV, out)
	return nil
}

// writeData answers POST and PUT data/{path}: a new version holding exactly
// the bytes of the "data" object sent.
func (h *Handler) writeData(w http.ResponseWriter, r *http.Request, project, p string) error {
	body, fields, err := readBody(r)
	if err != nil {
		return err
	}
	defer clear(body)
	defer wipeFields(fields)
	data, err := dataField(fields)
	if err != nil {
		return err
	}
	cas, err := casOption(fields)
	if err != nil {
		return err
	}
	folder, name, err := parseKey(p)
	if err != nil {
		return err
	}
	s, v, err := h.svc.CreateVersion(r.Context(), "", coffer.VersionCreate{
		Data:         coffer.Payload(data),
		JSONObject:   true,
		CAS:          cas,
		CreateSecret: &coffer.SecretCreate{ProjectID: project, Path: folder, Name: name},
	})
	if err != nil {
		return err
	}
	writeEnvelope(w, r, http.StatusOK, mountKV, toVersionMetadata(s, v))
	return nil
}

// patchData answers PATCH data/{path}: a JSON merge patch of the current
// version, made into a new version by the engine in one transaction.
func (h *Handler) patchData(w http.ResponseWriter, r *http.Request, project, p string) error {
	if err := checkPatchType(r); err != nil {
		return err
	}
	body, fields, err := readBody(r)
	if err != nil {
		return err
	}
	defer clear(body)
	defer wipeFields(fields)
	patch, err := dataField(fields)
	if err != nil {
		return err
	}
	cas, err := casOption(fields)
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
	s, v, err := h.svc.PatchVersion(ctx, s.ID, coffer.VersionPatch{Patch: coffer.Payload(patch), CAS: cas})
	switch {
	case versionGone(err) && v != nil:
		writeEnvelope(w, r, http.StatusNotFound, mountKV, toVersionMetadata(s, v))
		return nil
	case notFound(err):
		writeEmpty(w, http.StatusNotFound)
		return nil
	case err != nil:
		return err
	}
	writeEnvelope(w, r, http.StatusOK, mountKV, toVersionMetadata(s, v))
	return nil
}

// deleteData answers DELETE data/{path}: it soft-deletes (disables) the
// current version. A key that does not exist, or whose current version is
// already deleted or destroyed, is left as it is.
func (h *Handler) deleteData(w http.ResponseWriter, r *http.Request, project, p string) error {
	ctx := r.Context()
	s, err := h.lookup(ctx, project, p)
	if notFound(err) {
		answeredDone(ctx, err)
		writeNoContent(w)
		return nil
	} else if err != nil {
		return err
	}
	if s.LastRevision != 0 {
		_, err := h.svc.DisableVersion(ctx, s.ID, coffer.RevisionN(s.LastRevision))
		if err != nil && !notFound(err) && !versionGone(err) {
			return err
		}
	}
	writeNoContent(w)
	return nil
}

// subkeys answers GET subkeys/{path}: the structure of the secret's JSON
// object with every value replaced by null, down to ?depth= levels (0: all).
func (h *Handler) subkeys(w http.ResponseWriter, r *http.Request, project string) error {
	op, err := operationOf(r)
	if err != nil {
		return err
	}
	p := r.PathValue("path")
	if op != opRead {
		return errUnsupported
	}
	if p == "" {
		return h.mountRoot(w, r, project)
	}
	if strings.HasSuffix(p, "/") {
		writeWarning(w, r, fmt.Sprintf(warnInvalidPath, op.subcommand()))
		return nil
	}
	depth, err := queryInt(r, "depth")
	if err != nil {
		return err
	}
	if depth < 0 {
		return badRequest("depth must be a non-negative integer")
	}
	rd, err := h.readVersion(r, project, p)
	if err != nil {
		return err
	}
	defer rd.Data.Wipe()
	out := subkeysJSON{Metadata: toVersionMetadata(rd.Secret, rd.Version)}
	if !rd.Readable {
		writeEnvelope(w, r, http.StatusNotFound, mountKV, out)
		return nil
	}
	if rd.Data != nil {
		keys, err := subkeyTree(rd.Data, depth)
		if err != nil {
			return err
		}
		out.Subkeys = keys
	}
	writeEnvelope(w, r, http.StatusOK, mountKV, out)
	return nil
}

// maxSubkeysDepth bounds the levels subkeys descends, as Vault does.
const maxSubkeysDepth = 100

// subkeyTree returns the keys of a JSON object with every value replaced by
// null, descending into non-empty objects until depth levels (0: as deep as
// Vault goes). No value of data survives.
func subkeyTree(data []byte, depth int) (map[string]any, error) {
	if depth == 0 || depth > maxSubkeysDepth {
		depth = maxSubkeysDepth
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, coffer.Errorf(coffer.EINTERNAL, "subkeys of a version that is not a JSON object")
	}
	var walk func(m map[string]any, level int)
	walk = func(m map[string]any, level int) {
		for k, v := range m {
			if child, ok := v.(map[string]any); ok && len(child) > 0 && level < depth {
				walk(child, level+1)
				continue
			}
			m[k] = nil
		}
	}
	walk(obj, 1)
	return obj, nil
}
