-- For the DROP EXTENSION guard: each table of the extension, and whether it holds
-- at least one row. EXISTS stops at the first row, so this is cheap at any size.
-- One line per table: the same tables that sql/schema.sql marks for pg_dump (a
-- #[pg_test] checks that every table of the schema is here).
SELECT t.table_name, t.has_rows
FROM (VALUES
    -- The counters only sum the other tables: rows of zeros are no data.
    ('user_metrics.counters', EXISTS (SELECT FROM user_metrics.counters AS c
                                      WHERE (c.users, c.sessions, c.events, c.rejected) <> (0, 0, 0, 0))),
    ('user_metrics.events', EXISTS (SELECT FROM user_metrics.events)),
    ('user_metrics.rejected_events', EXISTS (SELECT FROM user_metrics.rejected_events)),
    ('user_metrics.sessions', EXISTS (SELECT FROM user_metrics.sessions)),
    ('user_metrics.users', EXISTS (SELECT FROM user_metrics.users))
) AS t (table_name, has_rows)
ORDER BY t.table_name
