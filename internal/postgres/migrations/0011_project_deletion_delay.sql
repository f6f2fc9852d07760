-- Mirrors internal/sqlite/migrations/0011_project_deletion_delay.sql.
-- deletion_delay is how long a secret of the project scheduled for deletion
-- waits before it is destroyed, in nanoseconds; 0 is coffer's default (7
-- days).
ALTER TABLE projects ADD COLUMN deletion_delay bigint NOT NULL DEFAULT 0;
