-- The first schema of coffer's SQLite store.
--
-- Conventions, kept so that the PostgreSQL schema can mirror this one column
-- for column:
--   * times are INTEGER microseconds since the Unix epoch, UTC; NULL for a
--     nil pointer;
--   * durations are INTEGER nanoseconds;
--   * booleans are INTEGER 0 or 1;
--   * structured values are JSON text, NULL for a nil slice, map or pointer;
--   * text that is ordered or compared in listings uses byte order
--     (COLLATE BINARY here, COLLATE "C" in PostgreSQL);
--   * sealed values (version data, credentials, wrapped keys) are opaque
--     BLOBs.

CREATE TABLE meta (
	name  TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL
);

CREATE TABLE organizations (
	id         TEXT NOT NULL PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE projects (
	id              TEXT NOT NULL PRIMARY KEY,
	organization_id TEXT NOT NULL REFERENCES organizations (id),
	name            TEXT NOT NULL COLLATE BINARY,
	max_versions    INTEGER NOT NULL,
	cas_required    INTEGER NOT NULL,
	version_ttl     INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	UNIQUE (organization_id, name)
);

CREATE TABLE principals (
	id              TEXT NOT NULL PRIMARY KEY,
	organization_id TEXT NOT NULL REFERENCES organizations (id),
	kind            TEXT NOT NULL,
	name            TEXT NOT NULL,
	admin           INTEGER NOT NULL,
	created_at      INTEGER NOT NULL
);
CREATE INDEX principals_organization ON principals (organization_id);

CREATE TABLE api_keys (
	access_key         TEXT NOT NULL PRIMARY KEY,
	principal_id       TEXT NOT NULL REFERENCES principals (id),
	organization_id    TEXT NOT NULL REFERENCES organizations (id),
	default_project_id TEXT NOT NULL,
	description        TEXT NOT NULL,
	disabled           INTEGER NOT NULL,
	expires_at         INTEGER,
	created_at         INTEGER NOT NULL,
	secret_hash        BLOB NOT NULL UNIQUE,
	sealed_secret      BLOB NOT NULL
);
CREATE INDEX api_keys_principal ON api_keys (principal_id);
CREATE INDEX api_keys_organization ON api_keys (organization_id);

-- keys are protection keys (key-encryption keys); key_versions hold their
-- material wrapped by the root key.
CREATE TABLE keys (
	id         TEXT NOT NULL PRIMARY KEY,
	project_id TEXT NOT NULL REFERENCES projects (id),
	name       TEXT NOT NULL,
	is_default INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX keys_project ON keys (project_id);
-- One default key per project.
CREATE UNIQUE INDEX keys_project_default ON keys (project_id) WHERE is_default;

CREATE TABLE key_versions (
	key_id     TEXT NOT NULL REFERENCES keys (id),
	version    INTEGER NOT NULL,
	wrapped    BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (key_id, version)
);

CREATE TABLE secrets (
	id                    TEXT NOT NULL PRIMARY KEY,
	project_id            TEXT NOT NULL REFERENCES projects (id),
	path                  TEXT NOT NULL COLLATE BINARY,
	name                  TEXT NOT NULL COLLATE BINARY,
	type                  TEXT NOT NULL COLLATE BINARY,
	description           TEXT NOT NULL,
	tags                  TEXT,    -- JSON array, as written; secret_tags indexes it
	protected             INTEGER NOT NULL,
	used_by               TEXT,    -- JSON array
	custom_metadata       TEXT,    -- JSON object of strings
	max_versions          INTEGER NOT NULL,
	cas_required          INTEGER NOT NULL,
	version_ttl           INTEGER NOT NULL,
	ephemeral             TEXT,    -- JSON object; NULL: not ephemeral
	rotation              TEXT,    -- JSON object
	key_id                TEXT NOT NULL,
	key_vault_id          TEXT NOT NULL,
	state                 TEXT NOT NULL,
	deletion_requested_at INTEGER,
	purge_at              INTEGER,
	last_revision         INTEGER NOT NULL,
	latest_revision       INTEGER NOT NULL,
	oldest_revision       INTEGER NOT NULL,
	version_count         INTEGER NOT NULL,
	stages                TEXT,    -- JSON object of revisions
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL
);
-- A full path is unique in a project.
CREATE UNIQUE INDEX secrets_project_path_name ON secrets (project_id, path, name);
-- The default listing order.
CREATE INDEX secrets_project_name ON secrets (project_id, name, id);
CREATE INDEX secrets_project_type ON secrets (project_id, type);
-- The purge scan of secrets scheduled for deletion.
CREATE INDEX secrets_due_purge ON secrets (state, purge_at) WHERE purge_at IS NOT NULL;

-- secret_tags holds each distinct tag of a secret once, so that tag filters
-- and tag listings are index lookups. project_id is the secret's, which never
-- changes.
CREATE TABLE secret_tags (
	secret_id  TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	project_id TEXT NOT NULL,
	tag        TEXT NOT NULL COLLATE BINARY,
	PRIMARY KEY (secret_id, tag)
);
CREATE INDEX secret_tags_project_tag ON secret_tags (project_id, tag);

-- versions holds a secret's versions. The ephemeral column holds the policy
-- fields that are not searched; its expiry time lives in expires_at, which the
-- expiry scan reads through an index. data is last so that reading the other
-- columns never walks a large value's overflow pages.
CREATE TABLE versions (
	secret_id             TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	revision              INTEGER NOT NULL,
	state                 TEXT NOT NULL,
	state_before_deletion TEXT NOT NULL,
	description           TEXT NOT NULL,
	data_crc32            INTEGER,
	size                  INTEGER NOT NULL,
	ephemeral             TEXT,    -- JSON object; NULL: not ephemeral
	expires_at            INTEGER, -- the ephemeral expiry time
	disabled_at           INTEGER,
	deletion_requested_at INTEGER,
	purge_at              INTEGER,
	destroyed_at          INTEGER,
	accessed_at           INTEGER,
	created_by            TEXT NOT NULL,
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL,
	data                  BLOB,
	PRIMARY KEY (secret_id, revision)
);
-- The scheduler's scans: expiry of enabled versions, purge of versions
-- scheduled for deletion.
CREATE INDEX versions_due_expiry ON versions (state, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX versions_due_purge ON versions (state, purge_at) WHERE purge_at IS NOT NULL;
