-- key_rotations keeps the progress of the re-wrap of a protection key's
-- data keys under a newer version of the key (internal/engine,
-- keyrotation.go): where the current pass stopped (after_secret,
-- after_revision), the pass, and counts for the operator. One row per key:
-- a later rotation of the key replaces it. Mirrored by
-- internal/postgres/migrations/0012_key_rotations.sql.
CREATE TABLE key_rotations (
	key_id         TEXT NOT NULL PRIMARY KEY REFERENCES keys (id),
	project_id     TEXT NOT NULL REFERENCES projects (id),
	to_version     INTEGER NOT NULL,
	after_secret   TEXT NOT NULL COLLATE BINARY,
	after_revision INTEGER NOT NULL,
	pass           INTEGER NOT NULL,
	pass_rewrapped INTEGER NOT NULL,
	scanned        INTEGER NOT NULL,
	rewrapped      INTEGER NOT NULL,
	total          INTEGER NOT NULL,
	started_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	completed_at   INTEGER
);
CREATE INDEX key_rotations_project ON key_rotations (project_id);
