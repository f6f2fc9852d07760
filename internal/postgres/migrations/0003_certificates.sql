-- Client certificates issued by coffer's CA: what each grants, and whether
-- it was revoked. Never a private key. Mirrors
-- internal/sqlite/migrations/0003_certificates.sql.
CREATE TABLE certificates (
	serial       text COLLATE "C" NOT NULL PRIMARY KEY,
	principal_id text COLLATE "C" NOT NULL REFERENCES principals (id),
	project_id   text COLLATE "C" NOT NULL REFERENCES projects (id),
	not_after    bigint NOT NULL,
	revoked_at   bigint,
	created_at   bigint NOT NULL
);
CREATE INDEX certificates_principal ON certificates (principal_id);
