-- $1, $2: the (user key, session id) pairs wanted, element by element. Returns
-- those of them that exist, with their row id. Run before
-- create_or_lock_sessions to know which sessions are new, and after it for any
-- that a concurrent call created in between.
-- Each pair is looked up as a pair (a join with the arrays), never as "any of
-- these users with any of these ids": before PostgreSQL 17 an index scan with
-- `= ANY` on both columns of the unique index walks every combination of the two
-- arrays, a million index descents for 1,000 sessions. `user_key = ANY ($1)`
-- names the users, so that on Citus only their shards are asked.
SELECT s.user_key, s.client_session_id, s.id
FROM unnest($1::bigint[], $2::text[]) AS w (user_key, client_session_id)
JOIN user_metrics.sessions AS s
  ON s.user_key = w.user_key AND s.client_session_id = w.client_session_id
WHERE s.user_key = ANY ($1::bigint[])
