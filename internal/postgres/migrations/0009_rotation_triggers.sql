-- Mirrors internal/sqlite/migrations/0009_rotation_triggers.sql.
-- Rotation triggers (webhooks) and the scheduler's index of rotations.
--
-- A trigger is a URL that a rotation job POSTs to, signed with a secret
-- that is sealed under the root key like an API key's (sealed_secret) and
-- never stored in the clear.
CREATE TABLE triggers (
	id            text COLLATE "C" NOT NULL PRIMARY KEY,
	project_id    text COLLATE "C" NOT NULL REFERENCES projects (id),
	name          text COLLATE "C" NOT NULL,
	url           text COLLATE "C" NOT NULL,
	sealed_secret bytea NOT NULL,
	created_at    bigint NOT NULL,
	UNIQUE (project_id, name)
);

-- Both columns are derived from the secret's rotation column when a secret
-- is written: trigger_id is the linked trigger, rotate_at when the
-- scheduler must next look at the secret (the open job's deadline, or the
-- next automatic rotation).
ALTER TABLE secrets ADD COLUMN trigger_id text COLLATE "C";
ALTER TABLE secrets ADD COLUMN rotate_at bigint;
CREATE INDEX secrets_trigger ON secrets (trigger_id) WHERE trigger_id IS NOT NULL;
CREATE INDEX secrets_rotate_at ON secrets (rotate_at, id) WHERE rotate_at IS NOT NULL;
