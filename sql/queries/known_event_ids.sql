-- $1, $2: the batch's (user key, event_id) pairs, element by element. Returns
-- those already stored: repeats, found before any row is written so that they
-- take no part in the sessions' totals.
-- Each pair is looked up as a pair, not as "any of these users with any of these
-- ids" (before PostgreSQL 17 that index scan walks every combination of the two
-- arrays). `user_key = ANY ($1)` names the users, so that on Citus only their
-- shards are asked.
SELECT e.user_key, e.event_id
FROM unnest($1::bigint[], $2::text[]) AS w (user_key, event_id)
JOIN user_metrics.events AS e
  ON e.user_key = w.user_key AND e.event_id = w.event_id
WHERE e.user_key = ANY ($1::bigint[])
