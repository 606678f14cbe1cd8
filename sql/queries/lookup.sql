-- The first statement of an ingest_metrics call (lookup_citus.sql on a server
-- that runs Citus): what is already stored of the batch, in one statement instead
-- of one per table. $1: the batch's user keys; $2, $3: its (user key, session id)
-- pairs, element by element; $4, $5, $6: its events' (user key, event_id, session
-- id). One row per thing found:
--   kind 'user'     user_key; text: the stored e-mail (the caller compares it with
--                   the batch's, to tell a key collision); name: the current name
--   kind 'erased'   user_key; number: an erasure by forget_user, in microseconds
--                   since the Unix epoch (that user's events of sessions that
--                   started before the latest are not stored)
--   kind 'session'  user_key; text: the client's session id; number: its row id
--   kind 'event'    user_key; text: an event_id already stored (a repeat)
-- With only user keys (the other arrays empty), it finds users and erasures; with
-- only session pairs, sessions: ingestion runs it so again for rows that a
-- concurrent call created after the first lookup.
--
-- An event_id is looked for only if its event's session exists: a batch's new
-- sessions are usually its new events (a batch sent again finds its sessions, and
-- so its repeats). An event_id stored before under another session, sent now
-- in a new one, is not found here; the store statement's ON CONFLICT skips it,
-- and the caller counts it a repeat and brings the new session to the totals of
-- what it stored (store.rs, settle), as after a race with a concurrent call.
-- The sessions found are read once (MATERIALIZED) and kept in memory for that
-- test; the OFFSET 0 keeps the test before the index lookups of the events.
--
-- Pairs are looked up as pairs (a join with the arrays), never as "any of these
-- users with any of these ids": before PostgreSQL 17 an index scan with `= ANY` on
-- both columns of a two-column index walks every combination of the two arrays.
WITH found_sessions AS MATERIALIZED (
    SELECT s.user_key, s.client_session_id, s.id
    FROM unnest($2::bigint[], $3::text[]) AS w (user_key, client_session_id)
    JOIN user_metrics.sessions AS s
      ON s.user_key = w.user_key AND s.client_session_id = w.client_session_id
)
SELECT 'user' AS kind, u.user_key, u.email AS text, u.name, NULL::bigint AS number
FROM user_metrics.users AS u
WHERE u.user_key = ANY ($1::bigint[])
UNION ALL
SELECT 'erased', f.user_key, NULL, NULL, (EXTRACT(epoch FROM f.forgotten_at) * 1000000)::bigint
FROM user_metrics.forgotten_users AS f
WHERE f.user_key = ANY ($1::bigint[])
UNION ALL
SELECT 'session', s.user_key, s.client_session_id, NULL, s.id
FROM found_sessions AS s
UNION ALL
SELECT 'event', e.user_key, e.event_id, NULL, NULL
FROM (SELECT w.user_key, w.event_id
      FROM unnest($4::bigint[], $5::text[], $6::text[]) AS w (user_key, event_id, client_session_id)
      WHERE EXISTS (SELECT FROM found_sessions AS s
                    WHERE s.user_key = w.user_key AND s.client_session_id = w.client_session_id)
      OFFSET 0) AS w
JOIN user_metrics.events AS e ON e.user_key = w.user_key AND e.event_id = w.event_id
