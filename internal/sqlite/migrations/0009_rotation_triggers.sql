-- Rotation triggers (webhooks) and the scheduler's index of rotations.
--
-- A trigger is a URL that a rotation job POSTs to, signed with a secret
-- that is sealed under the root key like an API key's (sealed_secret) and
-- never stored in the clear.
CREATE TABLE triggers (
	id            TEXT NOT NULL PRIMARY KEY,
	project_id    TEXT NOT NULL REFERENCES projects (id),
	name          TEXT NOT NULL,
	url           TEXT NOT NULL,
	sealed_secret BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	UNIQUE (project_id, name)
);

-- Both columns are derived from the secret's rotation column when a secret
-- is written: trigger_id is the linked trigger, rotate_at when the
-- scheduler must next look at the secret (the open job's deadline, or the
-- next automatic rotation).
ALTER TABLE secrets ADD COLUMN trigger_id TEXT;
ALTER TABLE secrets ADD COLUMN rotate_at INTEGER;
CREATE INDEX secrets_trigger ON secrets (trigger_id) WHERE trigger_id IS NOT NULL;
CREATE INDEX secrets_rotate_at ON secrets (rotate_at, id) WHERE rotate_at IS NOT NULL;
