-- leases elect the one node that runs a kind of background work. A lease is
-- held by holder until expires_at (microseconds since the Unix epoch, on the
-- database's clock, which every node shares). token is the fencing token: it
-- grows by one each time the lease starts a new term (another holder, or the
-- same holder after it expired), and work done under the lease checks it in
-- its own transaction, so that a node that lost the lease cannot commit.
-- Mirrors internal/sqlite/migrations/0002_leases.sql.
CREATE TABLE leases (
	name       text COLLATE "C" NOT NULL PRIMARY KEY,
	holder     text COLLATE "C" NOT NULL,
	token      bigint NOT NULL,
	expires_at bigint NOT NULL
);
