-- The audit trail: one row per request, chained by hash (internal/audit).
-- No foreign keys: a record outlives the principal, project or secret it
-- names. Never a secret value, a token or a key.
CREATE TABLE audit_records (
	seq                INTEGER NOT NULL PRIMARY KEY,
	time               INTEGER NOT NULL,
	organization_id    TEXT NOT NULL,
	principal_id       TEXT NOT NULL,
	access_key         TEXT NOT NULL,
	certificate_serial TEXT NOT NULL,
	project_id         TEXT NOT NULL,
	dialect            TEXT NOT NULL,
	action             TEXT NOT NULL,
	secret_id          TEXT NOT NULL,
	path               TEXT NOT NULL,
	revision           TEXT NOT NULL,
	outcome            TEXT NOT NULL,
	status             INTEGER NOT NULL,
	error_code         TEXT NOT NULL,
	request_id         TEXT NOT NULL,
	source             TEXT NOT NULL,
	user_agent         TEXT NOT NULL,
	prev_hash          BLOB NOT NULL,
	hash               BLOB NOT NULL
);
CREATE INDEX audit_records_time ON audit_records (time);
CREATE INDEX audit_records_organization ON audit_records (organization_id, seq);
CREATE INDEX audit_records_principal ON audit_records (principal_id, seq);
CREATE INDEX audit_records_secret ON audit_records (secret_id, seq);
