-- The audit trail: one row per request, chained by hash (internal/audit).
-- No foreign keys: a record outlives the principal, project or secret it
-- names. Never a secret value, a token or a key. Mirrors
-- internal/sqlite/migrations/0004_audit.sql.
CREATE TABLE audit_records (
	seq                bigint NOT NULL PRIMARY KEY,
	time               bigint NOT NULL,
	organization_id    text COLLATE "C" NOT NULL,
	principal_id       text COLLATE "C" NOT NULL,
	access_key         text COLLATE "C" NOT NULL,
	certificate_serial text COLLATE "C" NOT NULL,
	project_id         text COLLATE "C" NOT NULL,
	dialect            text COLLATE "C" NOT NULL,
	action             text COLLATE "C" NOT NULL,
	secret_id          text COLLATE "C" NOT NULL,
	path               text COLLATE "C" NOT NULL,
	revision           text COLLATE "C" NOT NULL,
	outcome            text COLLATE "C" NOT NULL,
	status             integer NOT NULL,
	error_code         text COLLATE "C" NOT NULL,
	request_id         text COLLATE "C" NOT NULL,
	source             text COLLATE "C" NOT NULL,
	user_agent         text COLLATE "C" NOT NULL,
	prev_hash          bytea NOT NULL,
	hash               bytea NOT NULL
);
CREATE INDEX audit_records_time ON audit_records (time);
CREATE INDEX audit_records_organization ON audit_records (organization_id, seq);
CREATE INDEX audit_records_principal ON audit_records (principal_id, seq);
CREATE INDEX audit_records_secret ON audit_records (secret_id, seq);
