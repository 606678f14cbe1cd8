-- $1: the batch's user keys; $2: its event ids. Returns the (user, event_id) pairs
-- already stored among them: repeats, found before any row is written so that
-- they take no part in the sessions' totals. The caller keeps only the pairs the
-- batch sent (a user may have stored an id that the batch sends for another).
-- Naming the users first confines the lookup to their rows (on Citus, to their
-- shards).
SELECT e.user_key, e.event_id
FROM user_metrics.events AS e
WHERE e.user_key = ANY ($1::bigint[])
  AND e.event_id = ANY ($2::text[])
