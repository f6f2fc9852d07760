-- Policies: the permission sets a principal holds on one project (or, with
-- an empty project_id, on every project of its organization), optionally
-- limited to a path prefix.
CREATE TABLE policies (
	id              TEXT NOT NULL PRIMARY KEY,
	organization_id TEXT NOT NULL REFERENCES organizations (id),
	principal_id    TEXT NOT NULL REFERENCES principals (id),
	project_id      TEXT NOT NULL,
	path_prefix     TEXT NOT NULL COLLATE BINARY,
	permission_sets TEXT NOT NULL,
	created_at      INTEGER NOT NULL
);
CREATE INDEX policies_principal ON policies (principal_id);
CREATE INDEX policies_organization ON policies (organization_id);
