-- For the DROP EXTENSION guard: each table of the extension, and whether it holds
-- at least one row. EXISTS stops at the first row, so this is cheap at any size.
-- One line per table that holds data: the tables sql/schema.sql marks for pg_dump
-- except user_metrics.counters, which only sums these, and
-- user_metrics.ingest_counters, statistics of the calls (a #[pg_test] checks that
-- every other table of the schema is here).
SELECT t.table_name, t.has_rows
FROM (VALUES
    ('user_metrics.events', EXISTS (SELECT FROM user_metrics.events)),
    ('user_metrics.forgotten_users', EXISTS (SELECT FROM user_metrics.forgotten_users)),
    ('user_metrics.rejected_events', EXISTS (SELECT FROM user_metrics.rejected_events)),
    ('user_metrics.sessions', EXISTS (SELECT FROM user_metrics.sessions)),
    ('user_metrics.users', EXISTS (SELECT FROM user_metrics.users))
) AS t (table_name, has_rows)
ORDER BY t.table_name
