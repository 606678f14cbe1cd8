-- forget_user. $1: the user key. Deletes the user's sessions (after their events);
-- returns how many.
WITH gone AS (
    DELETE FROM user_metrics.sessions AS s
    WHERE s.user_key = $1::bigint
    RETURNING 1
)
SELECT count(*) FROM gone
