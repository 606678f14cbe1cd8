-- $1: session ids, already locked by lock_sessions. Returns each with its row id
-- and the user it belongs to.
SELECT s.client_session_id, s.id, s.user_id
FROM user_metrics.sessions AS s
WHERE s.client_session_id = ANY ($1::text[])
