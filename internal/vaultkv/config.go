package vaultkv

import (
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
)

// config serves config: the settings of the mount's project.
func (h *Handler) config(w http.ResponseWriter, r *http.Request, project string) error {
	op, err := operationOf(r)
	if err != nil {
		return err
	}
	switch op {
	case opRead:
		p, err := h.svc.GetProject(r.Context(), project)
		if err != nil {
			return err
		}
		writeEnvelope(w, r, http.StatusOK, mountKV, configJSON{
			CASRequired:        p.Settings.CASRequired,
			DeleteVersionAfter: duration(p.Settings.VersionTTL),
			MaxVersions:        p.Settings.MaxVersions,
		})
		return nil
	case opUpdate:
		return h.writeConfig(w, r, project)
	}
	return errUnsupported
}

// writeConfig answers POST and PUT config: it changes the settings given. A
// negative delete_version_after turns version TTLs off for every secret of
// the project; 0 clears it.
func (h *Handler) writeConfig(w http.ResponseWriter, r *http.Request, project string) error {
	body, fields, err := readBody(r)
	if err != nil {
		return err
	}
	defer clear(body)
	var u coffer.ProjectSettingsUpdate
	n, err := intField(fields, "max_versions")
	if err != nil {
		return err
	}
	if n != nil {
		if *n < -1<<31 || *n > 1<<31-1 {
			return badRequest("max_versions is out of range")
		}
		u.MaxVersions = ptr(int(*n))
	}
	if u.CASRequired, err = boolField(fields, "cas_required"); err != nil {
		return err
	}
	name := "delete_version_after"
	if _, ok := fields[name]; !ok {
		name = "deactivate_version_after" // OKMS's name for it
	}
	if u.VersionTTL, err = durationField(fields, name); err != nil {
		return err
	}
	if u.VersionTTL != nil && *u.VersionTTL < 0 {
		*u.VersionTTL = -time.Second // Vault's "disabled"
	}
	if u.MaxVersions == nil && u.CASRequired == nil && u.VersionTTL == nil {
		writeNoContent(w)
		return nil
	}
	if _, err := h.svc.ChangeProjectSettings(r.Context(), project, u); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}
