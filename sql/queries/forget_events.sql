-- forget_user. $1: the user key. Deletes the user's events; returns how many.
WITH gone AS (
    DELETE FROM user_metrics.events AS e
    WHERE e.user_key = $1::bigint
    RETURNING 1
)
SELECT count(*) FROM gone
