-- health(): cheap figures only. Row counts are exact: the sums of the counters
-- that every writing function keeps in its own transaction (a few rows, one per
-- backend slot that ever wrote), never a count(*) and never the statistics system,
-- which is empty on a standby and after a crash or pg_stat_reset(). The time
-- of the latest stored event is kept with them, so health() reads no other table.
WITH totals AS (
    SELECT COALESCE(sum(c.users), 0)::bigint AS users,
           COALESCE(sum(c.sessions), 0)::bigint AS sessions,
           COALESCE(sum(c.events), 0)::bigint AS events,
           COALESCE(sum(c.rejected), 0)::bigint AS rejected,
           max(c.last_received_at) AS last_received_at
    FROM user_metrics.counters AS c
)
SELECT jsonb_build_object(
    'status', 'ok',
    'version', (SELECT e.extversion FROM pg_catalog.pg_extension AS e
                WHERE e.extname = 'user_metrics'),
    'postgres', current_setting('server_version'),
    'users', t.users,
    'sessions', t.sessions,
    'events', t.events,
    'rejected', t.rejected,
    'last_received_at', t.last_received_at) AS health
FROM totals AS t
