-- purge. $1, $2: the (user key, row id) pairs, element by element, of the
-- sessions being purged. Deletes their events; returns how many. Pairs are
-- matched as pairs (see lookup.sql for why); `user_key = ANY ($1)`
-- confines the statement to these users' rows (on Citus, their shards).
WITH gone AS (
    DELETE FROM user_metrics.events AS e
    USING unnest($1::bigint[], $2::bigint[]) AS d (user_key, session_id)
    WHERE e.user_key = ANY ($1::bigint[])
      AND e.user_key = d.user_key AND e.session_id = d.session_id
    RETURNING 1
)
SELECT count(*) FROM gone
