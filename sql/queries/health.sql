-- health(): cheap figures only. Row counts are the statistics system's live-tuple
-- counts (exact up to a second or so after each commit), falling back to the
-- planner's estimate after a crash reset the statistics; never a count(*).
WITH tables (name, oid) AS (
    VALUES ('users', 'user_metrics.users'::regclass),
           ('sessions', 'user_metrics.sessions'::regclass),
           ('events', 'user_metrics.events'::regclass),
           ('rejected', 'user_metrics.rejected_events'::regclass)
), estimates AS (
    SELECT t.name,
           CASE WHEN pg_stat_get_live_tuples(t.oid) > 0
                THEN pg_stat_get_live_tuples(t.oid)
                ELSE GREATEST(c.reltuples, 0)::bigint END AS estimate
    FROM tables AS t
    JOIN pg_catalog.pg_class AS c ON c.oid = t.oid
)
SELECT jsonb_build_object(
    'status', 'ok',
    'version', (SELECT e.extversion FROM pg_catalog.pg_extension AS e
                WHERE e.extname = 'user_metrics'),
    'postgres', current_setting('server_version'),
    'users', (SELECT estimate FROM estimates WHERE name = 'users'),
    'sessions', (SELECT estimate FROM estimates WHERE name = 'sessions'),
    'events', (SELECT estimate FROM estimates WHERE name = 'events'),
    'rejected', (SELECT estimate FROM estimates WHERE name = 'rejected'),
    'counts_are_estimates', true,
    'last_received_at', (SELECT ev.received_at FROM user_metrics.events AS ev
                         ORDER BY ev.id DESC LIMIT 1))
