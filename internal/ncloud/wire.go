package ncloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
)

// success is NAVER's envelope of a successful answer; Data is null for the
// actions that return nothing.
type success struct {
	Code string `json:"code"`
	Data any    `json:"data"`
}

// writeData answers 200 with data in the success envelope.
func writeData(w http.ResponseWriter, data any) error {
	writeJSON(w, http.StatusOK, success{Code: "SUCCESS", Data: data})
	return nil
}

// writeJSON writes v as JSON. The buffer is cleared afterwards: it may hold
// secret values.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"errorCode":"INTERNAL_SERVER_ERROR","message":"Server internal error","details":"internal error"}}`)
	}
	defer clear(buf.Bytes())
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// millis returns t in epoch milliseconds, NAVER's form of every date.
func millis(t time.Time) int64 { return t.UnixMilli() }

// millisPtr returns *t in epoch milliseconds, or nil.
func millisPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	return new(t.UnixMilli())
}

// decodeBody decodes a JSON object body into v. An empty body decodes as
// {}; unknown fields are ignored, as NAVER's newer fields
// (kmsBoundaryType) may be sent by newer clients.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return coffer.Invalid("body", coffer.ReasonFormat, "the request body could not be read")
	}
	defer clear(b)
	return parseBody(b, v)
}

// parseBody decodes b, a JSON object or nothing, into v.
func parseBody(b []byte, v any) error {
	if err := coffer.CheckJSONText(b); err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return coffer.Invalid("body", coffer.ReasonFormat, "the request body must be a JSON object with the operation's fields")
	}
	if dec.More() {
		return coffer.Invalid("body", coffer.ReasonFormat, "the request body must be one JSON object")
	}
	return nil
}
