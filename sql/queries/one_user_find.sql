-- On Citus, a call of one event: what is stored of its user, in one statement that
-- Citus sends to that user's shard only (every table is named by the user key, the
-- distribution column, and they are co-located). $1: the user key; $2: the
-- client's session id; $3: the event_id, or NULL.
-- No row: the user is new. Otherwise its stored e-mail and name, its session's row
-- id (NULL: a new session), and whether the user stored this event_id before.
-- An existing session is row-locked here, before the event is inserted, as
-- store.sql locks every session of a batch first, so that the two paths take
-- their locks in one order; in this statement, so that locking it costs no round
-- trip of its own.
SELECT u.email, u.name,
       (SELECT s.id FROM user_metrics.sessions AS s
        WHERE s.user_key = $1::bigint AND s.client_session_id = $2::text
        FOR NO KEY UPDATE) AS session_id,
       EXISTS (SELECT FROM user_metrics.events AS e
               WHERE $3::text IS NOT NULL AND e.user_key = $1::bigint AND e.event_id = $3::text)
       AS repeat
FROM user_metrics.users AS u
WHERE u.user_key = $1::bigint
