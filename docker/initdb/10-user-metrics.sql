-- Run by the postgres image's entrypoint in the database POSTGRES_DB, as
-- POSTGRES_USER (a superuser), when the data directory is first created.
-- Login roles and their grants are left to the DBA (see SECURITY.md).
CREATE EXTENSION IF NOT EXISTS user_metrics;
SELECT user_metrics.health() ->> 'status' AS user_metrics_status;
