package node

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/audit"
)

// VerifyAudit walks the audit trail of the store cfg names (the SQLite
// database in cfg.DataDir, or the PostgreSQL database cfg.Store) by reading
// the database itself: no root key, no credentials, no server, so that an
// auditor can check a trail whatever state the nodes are in, and even
// while they run. A PostgreSQL schema is not migrated.
func VerifyAudit(ctx context.Context, cfg Config, anchor *coffer.AuditAnchor) (*coffer.AuditVerification, error) {
	if cfg.Store == "" {
		if path := filepath.Join(cfg.DataDir, DatabaseFile); !exists(path) {
			return nil, fmt.Errorf("no database at %s", path)
		}
	}
	cfg.NoMigrate = true
	s, err := openStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer s.Close()
	return audit.Verify(ctx, s.View, anchor)
}
