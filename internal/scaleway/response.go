package scaleway

import (
	"encoding/json"
	"net/http"
)

// writeJSON writes v with the exact Content-Type the JavaScript SDK needs.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"internal error","type":"internal_error"}`)
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeNoContent answers 204 with an empty body, as the service does for
// deletions, still labelled application/json.
func writeNoContent(w http.ResponseWriter) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusNoContent)
}
