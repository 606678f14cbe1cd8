-- $1: user keys; $2: session ids. Returns the sessions of those users with those
-- ids, with their row id: a superset of the batch's (user, session) pairs, which
-- the caller narrows. Run before create_or_lock_sessions to know which sessions
-- are new, and after it for any that a concurrent call created in between.
SELECT s.user_key, s.client_session_id, s.id
FROM user_metrics.sessions AS s
WHERE s.user_key = ANY ($1::bigint[])
  AND s.client_session_id = ANY ($2::text[])
