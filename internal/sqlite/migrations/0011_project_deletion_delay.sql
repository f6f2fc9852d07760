-- deletion_delay is how long a secret of the project scheduled for deletion
-- waits before it is destroyed, in nanoseconds; 0 is coffer's default (7
-- days). Mirrored by internal/postgres/migrations/0011_project_deletion_delay.sql.
ALTER TABLE projects ADD COLUMN deletion_delay INTEGER NOT NULL DEFAULT 0;
