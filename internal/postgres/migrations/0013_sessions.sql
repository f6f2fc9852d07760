-- Web console sessions: the SHA-256 of each session's token (never the
-- token), who opened it with which credential, and its idle and absolute
-- ends. Mirrors internal/sqlite/migrations/0013_sessions.sql.
CREATE TABLE sessions (
	token_hash         bytea NOT NULL PRIMARY KEY,
	principal_id       text COLLATE "C" NOT NULL,
	organization_id    text COLLATE "C" NOT NULL,
	access_key         text COLLATE "C" NOT NULL,
	certificate_serial text COLLATE "C" NOT NULL,
	default_project_id text COLLATE "C" NOT NULL,
	project_scope      text COLLATE "C" NOT NULL,
	created_at         bigint NOT NULL,
	last_seen_at       bigint NOT NULL,
	expires_at         bigint NOT NULL
);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
