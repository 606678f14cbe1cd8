-- purge. $1: the age; $2: at most this many rows. Deletes the quarantined events
-- that last arrived more than $1 ago, those that stopped arriving first (one sent
-- again and again stays); returns how many.
WITH doomed AS (
    SELECT r.id
    FROM user_metrics.rejected_events AS r
    WHERE r.last_received_at < now() - $1::interval
    ORDER BY r.last_received_at
    LIMIT $2::integer
), gone AS (
    DELETE FROM user_metrics.rejected_events AS r
    USING doomed
    WHERE r.id = doomed.id
    RETURNING 1
)
SELECT count(*) FROM gone
