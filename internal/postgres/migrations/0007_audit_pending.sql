-- A change and its audit record commit in one transaction: the engine
-- writes the record of a request's change here, in the change's own
-- transaction; the audit writer moves it into the chain (audit_blocks) and
-- deletes it here in one later transaction. A record left here by a crash
-- or a hang-up is moved into the chain by the writer's sweep. The chain
-- itself stays one linear chain, appended by one transaction at a time.
CREATE TABLE audit_pending (
	request_id text NOT NULL PRIMARY KEY,
	created_at bigint NOT NULL,
	data       bytea NOT NULL
);
CREATE INDEX audit_pending_created ON audit_pending (created_at);
