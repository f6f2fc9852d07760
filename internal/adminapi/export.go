package adminapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/coffer-dev/coffer"
)

// registerExport mounts the routes of export and import between instances:
//
//	GET  /coffer/v1/export-key   the instance's export key, for other instances to export to
//	POST /coffer/v1/export       an export file of the selected secrets (application/octet-stream)
//	POST /coffer/v1/import       import an export file (the body)
//
// A service without coffer.ExportService leaves them out; the node asserts
// that its engine has it.
func (h *Handler) registerExport(mux *http.ServeMux) {
	svc, ok := h.svc.(coffer.ExportService)
	if !ok {
		return
	}
	mux.Handle("GET /export-key", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		key, err := svc.ExportKey(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, ExportKeyResponse{PublicKey: key})
		return nil
	}))
	mux.Handle("POST /export", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return export(w, r, svc)
	}))
	mux.Handle("POST /import", h.auth.Handler(MaxImportSize, nil, func(w http.ResponseWriter, r *http.Request) error {
		return importFile(w, r, svc)
	}, h.writeErr))
}

// MaxImportSize bounds an import's body, the export file.
const MaxImportSize = 256 << 20

// PassphraseKeyHeader carries, base64-encoded, the key that a passphrase
// derives for a file encrypted to it (the client runs Argon2id with the
// salt and costs of the file's header).
const PassphraseKeyHeader = "Coffer-Passphrase-Key"

// ExportKeyResponse is the instance's export key.
type ExportKeyResponse struct {
	PublicKey string `json:"public_key"`
}

// ExportRequest selects the secrets to export and names the recipient:
// exactly one of Recipient (an export key) and Passphrase.
type ExportRequest struct {
	ProjectID  string            `json:"project_id,omitempty"`
	PathPrefix string            `json:"path_prefix,omitempty"`
	Recipient  string            `json:"recipient,omitempty"`
	Passphrase *ExportPassphrase `json:"passphrase,omitempty"`
}

// ExportPassphrase is the key a passphrase derives with Argon2id, and the
// salt and costs that derived it.
type ExportPassphrase struct {
	Key     []byte `json:"key"`
	Salt    []byte `json:"salt"`
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory"`
	Threads uint8  `json:"threads"`
}

// Headers of an export's answer: what it holds.
const (
	ExportSecretsHeader  = "Coffer-Export-Secrets"
	ExportVersionsHeader = "Coffer-Export-Versions"
)

func export(w http.ResponseWriter, r *http.Request, svc coffer.ExportService) error {
	var req ExportRequest
	if err := decode(r.Body, &req); err != nil {
		return err
	}
	in := coffer.ExportRequest{ProjectID: req.ProjectID, PathPrefix: req.PathPrefix, Recipient: req.Recipient}
	if p := req.Passphrase; p != nil {
		defer clear(p.Key)
		in.Passphrase = &coffer.ExportPassphrase{Key: p.Key, Salt: p.Salt, Time: p.Time, Memory: p.Memory, Threads: p.Threads}
	}
	// The file is built apart and sent whole, so that a failure half way
	// is an error, never a 200 with half a file.
	var buf bytes.Buffer
	sum, err := svc.Export(r.Context(), in, &buf)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(ExportSecretsHeader, strconv.Itoa(sum.Secrets))
	w.Header().Set(ExportVersionsHeader, strconv.Itoa(sum.Versions))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// ImportResponse counts what an import did.
type ImportResponse struct {
	Secrets     int `json:"secrets"`
	Created     int `json:"created"`
	Unchanged   int `json:"unchanged"`
	Skipped     int `json:"skipped"`
	Overwritten int `json:"overwritten"`
	Versions    int `json:"versions"`
}

// importFile imports the body: ?project_id= (else each secret's project by
// name), ?on_conflict=fail|skip|overwrite, ?new_ids=true.
func importFile(w http.ResponseWriter, r *http.Request, svc coffer.ExportService) error {
	q := r.URL.Query()
	in := coffer.ImportRequest{ProjectID: q.Get("project_id"), OnConflict: coffer.ConflictPolicy(q.Get("on_conflict"))}
	switch v := q.Get("new_ids"); v {
	case "", "false":
	case "true":
		in.NewIDs = true
	default:
		return coffer.Invalid("new_ids", coffer.ReasonFormat, "new_ids must be true or false")
	}
	if k := r.Header.Get(PassphraseKeyHeader); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return coffer.Invalid(PassphraseKeyHeader, coffer.ReasonFormat, "the passphrase key must be base64")
		}
		defer clear(key)
		in.PassphraseKey = key
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &coffer.Error{Code: coffer.ETOOLARGE, Message: fmt.Sprintf("an export file must be at most %d bytes", mbe.Limit)}
		}
		return coffer.Invalid("body", coffer.ReasonFormat, "the export file could not be read")
	}
	res, err := svc.Import(r.Context(), in, bytes.NewReader(body))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ImportResponse{Secrets: res.Secrets, Created: res.Created, Unchanged: res.Unchanged,
		Skipped: res.Skipped, Overwritten: res.Overwritten, Versions: res.Versions})
	return nil
}
