-- Web console sessions: the SHA-256 of each session's token (never the
-- token), who opened it with which credential, and its idle and absolute
-- ends. No foreign key to principals: a session of a deleted principal is
-- refused when used (the principal is read on every use) and removed with
-- the expired ones. Mirrored by internal/postgres/migrations/0013_sessions.sql.
CREATE TABLE sessions (
	token_hash         BLOB NOT NULL PRIMARY KEY,
	principal_id       TEXT NOT NULL,
	organization_id    TEXT NOT NULL,
	access_key         TEXT NOT NULL,
	certificate_serial TEXT NOT NULL,
	default_project_id TEXT NOT NULL,
	project_scope      TEXT NOT NULL,
	created_at         INTEGER NOT NULL,
	last_seen_at       INTEGER NOT NULL,
	expires_at         INTEGER NOT NULL
);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
