-- key_vaults are IMCO's key vaults: a folder (path) of a project whose
-- secrets are deployed to a target. target holds the target's public
-- settings as JSON; credential the target's credential sealed under the
-- root key (NULL without target). label_ids is a JSON array. Mirrors
-- internal/sqlite/migrations/0009_key_vaults.sql.
CREATE TABLE key_vaults (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	project_id  text COLLATE "C" NOT NULL REFERENCES projects (id),
	name        text COLLATE "C" NOT NULL,
	path        text COLLATE "C" NOT NULL,
	target      text NOT NULL,
	credential  bytea,
	state       text NOT NULL,
	remote_id   text NOT NULL,
	brownfield  boolean NOT NULL,
	label_ids   text NOT NULL,
	last_error  text NOT NULL,
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL,
	UNIQUE (project_id, name),
	UNIQUE (project_id, path)
);

CREATE TABLE deployments (
	secret_id         text COLLATE "C" NOT NULL PRIMARY KEY,
	key_vault_id      text COLLATE "C" NOT NULL REFERENCES key_vaults (id) ON DELETE CASCADE,
	project_id        text COLLATE "C" NOT NULL,
	state             text NOT NULL,
	remote_id         text NOT NULL,
	desired_remote_id text NOT NULL,
	brownfield        boolean NOT NULL,
	label_ids         text NOT NULL,
	pushed_revision   bigint NOT NULL,
	attempts          integer NOT NULL,
	next_attempt_at   bigint,
	last_error        text NOT NULL,
	created_at        bigint NOT NULL,
	updated_at        bigint NOT NULL
);
CREATE INDEX deployments_key_vault ON deployments (key_vault_id);

CREATE TABLE labels (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
	name            text COLLATE "C" NOT NULL,
	created_at      bigint NOT NULL,
	UNIQUE (organization_id, name)
);
