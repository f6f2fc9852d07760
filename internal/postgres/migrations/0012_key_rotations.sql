-- Mirrors internal/sqlite/migrations/0012_key_rotations.sql.
-- key_rotations keeps the progress of the re-wrap of a protection key's
-- data keys under a newer version of the key (internal/engine,
-- keyrotation.go): where the current pass stopped (after_secret,
-- after_revision), the pass, and counts for the operator. One row per key:
-- a later rotation of the key replaces it.
CREATE TABLE key_rotations (
	key_id         text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES keys (id),
	project_id     text COLLATE "C" NOT NULL REFERENCES projects (id),
	to_version     bigint NOT NULL,
	after_secret   text COLLATE "C" NOT NULL,
	after_revision bigint NOT NULL,
	pass           bigint NOT NULL,
	pass_rewrapped bigint NOT NULL,
	scanned        bigint NOT NULL,
	rewrapped      bigint NOT NULL,
	total          bigint NOT NULL,
	started_at     bigint NOT NULL,
	updated_at     bigint NOT NULL,
	completed_at   bigint
);
CREATE INDEX key_rotations_project ON key_rotations (project_id);
