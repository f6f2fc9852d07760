package adminapi

import (
	"context"
	"io"
	"net/http"
)

// BackupContentType is the media type of a dump (internal/backup).
const BackupContentType = "application/vnd.coffer.dump"

// Backuper is what the backup route needs of the engine.
type Backuper interface {
	// Backup authorizes the caller, calls open, and writes a dump of the
	// whole store to the writer open returns. Returns EUNAUTHENTICATED,
	// EFORBIDDEN, EUNAVAILABLE.
	Backup(ctx context.Context, open func() (io.Writer, error)) error
}

// registerBackup mounts:
//
//	POST /coffer/v1/backup   a consistent dump of the whole store, streamed
//
// The dump holds the rows as stored: sealed data and wrapped keys, never a
// plaintext; `coffer backup` encrypts it as it arrives. The response is
// streamed, not held until its audit record is written: the record is
// written before the first byte (server.Streamer).
func (h *Handler) registerBackup(mux *http.ServeMux) {
	mux.Handle("POST /backup", h.wrap(h.backup))
}

func (h *Handler) backup(w http.ResponseWriter, r *http.Request) error {
	started := false
	err := h.svc.Backup(r.Context(), func() (io.Writer, error) {
		w.Header().Set("Content-Type", BackupContentType)
		w.Header().Set("Cache-Control", "no-store")
		if s, ok := w.(interface{ Stream() error }); ok {
			if err := s.Stream(); err != nil {
				return nil, err
			}
		}
		started = true
		return w, nil
	})
	if err != nil && started {
		// The status went out: end the stream short of the dump's end,
		// which the client refuses.
		h.log.ErrorContext(r.Context(), "backup stream failed", "error", err)
		return nil
	}
	return err
}
