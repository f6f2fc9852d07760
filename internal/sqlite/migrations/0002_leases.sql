-- leases elect the one process that runs a kind of background work. A lease
-- is held by holder until expires_at (INTEGER microseconds since the Unix
-- epoch). token is the fencing token: it grows by one each time the lease
-- starts a new term (another holder, or the same holder after it expired),
-- and work done under the lease checks it in its own transaction, so that a
-- process that lost the lease cannot commit. Mirrored by
-- internal/postgres/migrations/0002_leases.sql.
CREATE TABLE leases (
	name       TEXT NOT NULL PRIMARY KEY COLLATE BINARY,
	holder     TEXT NOT NULL,
	token      INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
