-- purge. $1: user keys; $2: row ids of the sessions being purged. Deletes their
-- events (session ids come from one sequence, so the pair of conditions names
-- exactly these sessions' events); returns how many.
WITH gone AS (
    DELETE FROM user_metrics.events AS e
    WHERE e.user_key = ANY ($1::bigint[])
      AND e.session_id = ANY ($2::bigint[])
    RETURNING 1
)
SELECT count(*) FROM gone
