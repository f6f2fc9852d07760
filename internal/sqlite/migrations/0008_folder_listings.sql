-- Listings page in the database (docs/architecture.md, "Listings").
--
-- secrets_project_folder serves every listing by folder: the Vault LIST
-- and Scaleway browse (the secrets directly in a folder, by name, and its
-- sub-folders, found by a skip scan), and every path-prefix condition (a
-- folder and all below it is one range). Its key is the path with a
-- trailing slash, so that the secrets below a folder /a, whose paths are
-- "/a" and "/a/...", are the one range ["/a/", "/a0") of it, and so that
-- its order is the order of Vault's folder keys ("a-x/" before "a/").
-- The other columns let listings filter out the secrets scheduled for
-- deletion, count, and find a folder's times without reading the table.
CREATE INDEX secrets_project_folder
	ON secrets (project_id, (path || '/'), name, id, state, created_at, updated_at);

-- The listing by name, with the state, so that the default listing (which
-- leaves out secrets scheduled for deletion) counts and skips rows of a page
-- by the index alone.
DROP INDEX secrets_project_name;
CREATE INDEX secrets_project_name ON secrets (project_id, name, id, state);

-- The listings by creation and update time, the other orders of the
-- Scaleway API, page by the index rather than by sorting the project.
CREATE INDEX secrets_project_created ON secrets (project_id, created_at, id, state);
CREATE INDEX secrets_project_updated ON secrets (project_id, updated_at, id, state);
