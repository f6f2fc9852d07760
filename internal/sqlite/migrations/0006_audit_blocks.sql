-- The audit trail is stored one row per group commit rather than one row
-- per record: a block holds the records one transaction appended, encoded
-- by internal/audit (block.go), which also decodes and filters them. The
-- request path then writes one row per batch instead of a row and four
-- index entries per request.
--
-- The records of the earlier format are kept, untouched, in
-- audit_records_v1, with their chain's head under the meta name
-- audit.head.v1; the new chain starts at 1.
ALTER TABLE audit_records RENAME TO audit_records_v1;
DROP INDEX audit_records_time;
DROP INDEX audit_records_organization;
DROP INDEX audit_records_principal;
DROP INDEX audit_records_secret;
UPDATE meta SET name = 'audit.head.v1' WHERE name = 'audit.head';

CREATE TABLE audit_blocks (
	first_seq INTEGER NOT NULL PRIMARY KEY,
	last_seq  INTEGER NOT NULL,
	min_time  INTEGER NOT NULL,
	max_time  INTEGER NOT NULL,
	data      BLOB NOT NULL
);
-- No other index: each would cost every group commit a page write. Seq
-- cursors find their first block through the primary key (see
-- internal/storage/sqltext); time bounds filter the rows the cursor
-- walks, reading each block's bounds, never its records.
