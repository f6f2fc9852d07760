-- Number 12 is reserved for another schema change, which replaces this
-- file when it lands (migrations are numbered without a gap).
SELECT 1;
