-- Policies: the permission sets a principal holds on one project (or, with
-- an empty project_id, on every project of its organization), optionally
-- limited to a path prefix. Mirrors internal/sqlite/migrations/0005_iam.sql.
CREATE TABLE policies (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
	principal_id    text COLLATE "C" NOT NULL REFERENCES principals (id),
	project_id      text COLLATE "C" NOT NULL,
	path_prefix     text COLLATE "C" NOT NULL,
	permission_sets text COLLATE "C" NOT NULL,
	created_at      bigint NOT NULL
);
CREATE INDEX policies_principal ON policies (principal_id);
CREATE INDEX policies_organization ON policies (organization_id);
