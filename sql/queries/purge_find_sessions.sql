-- purge. $1: the age; $2: at most this many sessions. The oldest sessions that
-- started more than $1 ago, with their user's key (index sessions_started_idx).
SELECT s.user_key, s.id
FROM user_metrics.sessions AS s
WHERE s.started_at < now() - $1::interval
ORDER BY s.started_at
LIMIT $2::integer
