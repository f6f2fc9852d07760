package vaultkv

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/coffer-dev/coffer"
)

// Mount types the router stamps on responses.
const (
	mountKV     = "kv"
	mountSystem = "system"
	mountToken  = "token"
)

// envelope is the body of every answer of a secrets engine or of sys/ but
// health and seal status.
type envelope struct {
	RequestID     string   `json:"request_id"`
	LeaseID       string   `json:"lease_id"`
	Renewable     bool     `json:"renewable"`
	LeaseDuration int      `json:"lease_duration"`
	Data          any      `json:"data"`
	WrapInfo      any      `json:"wrap_info"`
	Warnings      []string `json:"warnings"`
	Auth          any      `json:"auth"`
	MountType     string   `json:"mount_type"`
}

// writeEnvelope writes data, which may be nil, in the envelope.
func writeEnvelope(w http.ResponseWriter, r *http.Request, status int, mountType string, data any, warnings ...string) {
	writeJSON(w, status, envelope{
		RequestID: coffer.RequestIDFromContext(r.Context()),
		Data:      data,
		Warnings:  warnings,
		MountType: mountType,
	})
}

// writeWarning answers 404 with an envelope that holds only a warning, as
// Vault does for paths of a mount that no endpoint serves.
func writeWarning(w http.ResponseWriter, r *http.Request, warning string) {
	writeEnvelope(w, r, http.StatusNotFound, mountKV, nil, warning)
}

// writeJSON writes v as Vault does: application/json with a trailing
// newline. The encoded bytes are wiped once written: they may hold a
// secret value.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString(`{"errors":["internal error"]}` + "\n")
	}
	defer clear(buf.Bytes())
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeNoContent answers 204 with an empty body.
func writeNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}

// writeEmpty answers status with an empty body, as Vault does for a PATCH
// of a key that does not exist.
func writeEmpty(w http.ResponseWriter, status int) {
	w.WriteHeader(status)
}
