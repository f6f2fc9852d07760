-- Client certificates issued by coffer's CA: what each grants, and whether
-- it was revoked. Never a private key.
CREATE TABLE certificates (
	serial       TEXT NOT NULL PRIMARY KEY,
	principal_id TEXT NOT NULL REFERENCES principals (id),
	project_id   TEXT NOT NULL REFERENCES projects (id),
	not_after    INTEGER NOT NULL,
	revoked_at   INTEGER,
	created_at   INTEGER NOT NULL
);
CREATE INDEX certificates_principal ON certificates (principal_id);
