-- The first schema of coffer's PostgreSQL store. It mirrors the SQLite
-- store's first schema (internal/sqlite/migrations/0001_init.sql) column for
-- column, so that both backends hold one shape and pass one conformance
-- suite:
--   * times are bigint microseconds since the Unix epoch, UTC; NULL for a
--     nil pointer;
--   * durations are bigint nanoseconds;
--   * booleans are boolean;
--   * structured values are JSON text (text, not jsonb: the bytes written
--     are the bytes read), NULL for a nil slice, map or pointer;
--   * text uses byte order, COLLATE "C", whatever the database's default
--     collation: listings order names, paths, tags and ids as bytes, as
--     SQLite's BINARY does;
--   * sealed values (version data, credentials, wrapped keys) are opaque
--     bytea.

CREATE TABLE meta (
	name  text COLLATE "C" NOT NULL PRIMARY KEY,
	value bytea NOT NULL
);

CREATE TABLE organizations (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	name       text COLLATE "C" NOT NULL,
	created_at bigint NOT NULL
);

CREATE TABLE projects (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
	name            text COLLATE "C" NOT NULL,
	max_versions    integer NOT NULL,
	cas_required    boolean NOT NULL,
	version_ttl     bigint NOT NULL,
	created_at      bigint NOT NULL,
	updated_at      bigint NOT NULL,
	UNIQUE (organization_id, name)
);

CREATE TABLE principals (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
	kind            text COLLATE "C" NOT NULL,
	name            text COLLATE "C" NOT NULL,
	admin           boolean NOT NULL,
	created_at      bigint NOT NULL
);
CREATE INDEX principals_organization ON principals (organization_id);

CREATE TABLE api_keys (
	access_key         text COLLATE "C" NOT NULL PRIMARY KEY,
	principal_id       text COLLATE "C" NOT NULL REFERENCES principals (id),
	organization_id    text COLLATE "C" NOT NULL REFERENCES organizations (id),
	default_project_id text COLLATE "C" NOT NULL,
	description        text COLLATE "C" NOT NULL,
	disabled           boolean NOT NULL,
	expires_at         bigint,
	created_at         bigint NOT NULL,
	secret_hash        bytea NOT NULL UNIQUE,
	sealed_secret      bytea NOT NULL
);
CREATE INDEX api_keys_principal ON api_keys (principal_id);
CREATE INDEX api_keys_organization ON api_keys (organization_id);

-- keys are protection keys (key-encryption keys); key_versions hold their
-- material wrapped by the root key.
CREATE TABLE keys (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	project_id text COLLATE "C" NOT NULL REFERENCES projects (id),
	name       text COLLATE "C" NOT NULL,
	is_default boolean NOT NULL,
	created_at bigint NOT NULL
);
CREATE INDEX keys_project ON keys (project_id);
-- One default key per project.
CREATE UNIQUE INDEX keys_project_default ON keys (project_id) WHERE is_default;

CREATE TABLE key_versions (
	key_id     text COLLATE "C" NOT NULL REFERENCES keys (id),
	version    bigint NOT NULL,
	wrapped    bytea NOT NULL,
	created_at bigint NOT NULL,
	PRIMARY KEY (key_id, version)
);

CREATE TABLE secrets (
	id                    text COLLATE "C" NOT NULL PRIMARY KEY,
	project_id            text COLLATE "C" NOT NULL REFERENCES projects (id),
	path                  text COLLATE "C" NOT NULL,
	name                  text COLLATE "C" NOT NULL,
	type                  text COLLATE "C" NOT NULL,
	description           text COLLATE "C" NOT NULL,
	tags                  text COLLATE "C",    -- JSON array, as written; secret_tags indexes it
	protected             boolean NOT NULL,
	used_by               text COLLATE "C",    -- JSON array
	custom_metadata       text COLLATE "C",    -- JSON object of strings
	max_versions          integer NOT NULL,
	cas_required          boolean NOT NULL,
	version_ttl           bigint NOT NULL,
	ephemeral             text COLLATE "C",    -- JSON object; NULL: not ephemeral
	rotation              text COLLATE "C",    -- JSON object
	key_id                text COLLATE "C" NOT NULL,
	key_vault_id          text COLLATE "C" NOT NULL,
	state                 text COLLATE "C" NOT NULL,
	deletion_requested_at bigint,
	purge_at              bigint,
	last_revision         bigint NOT NULL,
	latest_revision       bigint NOT NULL,
	oldest_revision       bigint NOT NULL,
	version_count         integer NOT NULL,
	stages                text COLLATE "C",    -- JSON object of revisions
	created_at            bigint NOT NULL,
	updated_at            bigint NOT NULL
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
	secret_id  text COLLATE "C" NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	project_id text COLLATE "C" NOT NULL,
	tag        text COLLATE "C" NOT NULL,
	PRIMARY KEY (secret_id, tag)
);
CREATE INDEX secret_tags_project_tag ON secret_tags (project_id, tag);

-- versions holds a secret's versions. The ephemeral column holds the policy
-- fields that are not searched; its expiry time lives in expires_at, which the
-- expiry scan reads through an index.
CREATE TABLE versions (
	secret_id             text COLLATE "C" NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	revision              bigint NOT NULL,
	state                 text COLLATE "C" NOT NULL,
	state_before_deletion text COLLATE "C" NOT NULL,
	description           text COLLATE "C" NOT NULL,
	data_crc32            bigint,
	size                  integer NOT NULL,
	ephemeral             text COLLATE "C",    -- JSON object; NULL: not ephemeral
	expires_at            bigint,  -- the ephemeral expiry time
	disabled_at           bigint,
	deletion_requested_at bigint,
	purge_at              bigint,
	destroyed_at          bigint,
	accessed_at           bigint,
	created_by            text COLLATE "C" NOT NULL,
	created_at            bigint NOT NULL,
	updated_at            bigint NOT NULL,
	data                  bytea,
	PRIMARY KEY (secret_id, revision)
);
-- The scheduler's scans: expiry of enabled versions, purge of versions
-- scheduled for deletion.
CREATE INDEX versions_due_expiry ON versions (state, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX versions_due_purge ON versions (state, purge_at) WHERE purge_at IS NOT NULL;
