-- key_vaults are IMCO's key vaults: a folder (path) of a project whose
-- secrets are deployed to a target. target holds the target's public
-- settings as JSON; credential the target's credential sealed under the
-- root key (NULL without target). label_ids is a JSON array. Mirrored by
-- internal/postgres/migrations/0009_key_vaults.sql.
CREATE TABLE key_vaults (
	id          TEXT NOT NULL PRIMARY KEY,
	project_id  TEXT NOT NULL REFERENCES projects (id),
	name        TEXT NOT NULL COLLATE BINARY,
	path        TEXT NOT NULL COLLATE BINARY,
	target      TEXT NOT NULL,
	credential  BLOB,
	state       TEXT NOT NULL,
	remote_id   TEXT NOT NULL,
	brownfield  INTEGER NOT NULL,
	label_ids   TEXT NOT NULL,
	last_error  TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	UNIQUE (project_id, name),
	UNIQUE (project_id, path)
);

-- deployments are the deployment of a secret of a key vault to the vault's
-- target. A secret removed meanwhile keeps its deployment until the sync
-- job has decommissioned the remote copy: no foreign key to secrets.
CREATE TABLE deployments (
	secret_id         TEXT NOT NULL PRIMARY KEY,
	key_vault_id      TEXT NOT NULL REFERENCES key_vaults (id) ON DELETE CASCADE,
	project_id        TEXT NOT NULL,
	state             TEXT NOT NULL,
	remote_id         TEXT NOT NULL,
	desired_remote_id TEXT NOT NULL,
	brownfield        INTEGER NOT NULL,
	label_ids         TEXT NOT NULL,
	pushed_revision   INTEGER NOT NULL,
	attempts          INTEGER NOT NULL,
	next_attempt_at   INTEGER,
	last_error        TEXT NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL
);
CREATE INDEX deployments_key_vault ON deployments (key_vault_id);

CREATE TABLE labels (
	id              TEXT NOT NULL PRIMARY KEY,
	organization_id TEXT NOT NULL REFERENCES organizations (id),
	name            TEXT NOT NULL COLLATE BINARY,
	created_at      INTEGER NOT NULL,
	UNIQUE (organization_id, name)
);
