-- $1: the batch's session ids, sorted; $2: for each, the user of its first event.
-- Creates the sessions that do not exist yet and row-locks the ones that do, in
-- one pass in sorted order: concurrent calls lock sessions in the same order and
-- cannot deadlock, and later events of this call may update them safely.
-- New sessions start at 'infinity' with no end: add_to_sessions narrows them to the
-- events actually stored. Returns the ids of the sessions this call created.
INSERT INTO user_metrics.sessions AS s (client_session_id, user_id, started_at)
SELECT input.client_session_id, input.user_id, 'infinity'
FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY
     AS input (client_session_id, user_id, position)
ORDER BY input.position
ON CONFLICT (client_session_id) DO UPDATE SET user_id = s.user_id
    WHERE false  -- lock the existing row, change nothing
RETURNING id
