-- $1: session ids. Returns those that exist, with their row id and the user they
-- belong to (a session's user never changes). Run before create_or_lock_sessions
-- to know which sessions are new, and after it for any that a concurrent call
-- created in between.
SELECT s.client_session_id, s.id, s.user_id
FROM user_metrics.sessions AS s
WHERE s.client_session_id = ANY ($1::text[])
