-- The first statement of an ingest_metrics call on a server that runs Citus
-- (lookup.sql elsewhere): what is already stored of the batch, in one statement
-- instead of one per table. $1: the batch's user keys; $2, $3: its (user key,
-- session id) pairs, element by element; $4, $5: its (user key, event_id) pairs;
-- $6: each event_id's session id, which this form does not use (every pair is
-- looked up). One row per thing found:
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
-- Pairs are looked up as pairs (a join with the arrays), never as "any of these
-- users with any of these ids": before PostgreSQL 17 an index scan with `= ANY` on
-- both columns of a two-column index walks every combination of the two arrays.
-- Every leg names its users (`user_key = ANY`), so that only their shards are
-- asked, and none when the array is empty (Citus asks every shard for
-- `= ANY ('{}')`, hence `cardinality(...) > 0`, which the planner folds to
-- false); the three legs over the distributed tables are one subquery, which
-- Citus sends to those shards as one query (each leg has user_key, the
-- distribution column, in the same place). forgotten_users stays on the
-- coordinator and is read there. The events are not narrowed to those of the
-- sessions found, as lookup.sql does: that needs the sessions found twice in one
-- statement, which Citus would run as a query of its own and send to the workers.
SELECT found.kind, found.user_key, found.text, found.name, found.number
FROM (
    SELECT 'user' AS kind, u.user_key, u.email AS text, u.name, NULL::bigint AS number
    FROM user_metrics.users AS u
    WHERE u.user_key = ANY ($1::bigint[]) AND cardinality($1::bigint[]) > 0
    UNION ALL
    SELECT 'session', s.user_key, s.client_session_id, NULL, s.id
    FROM unnest($2::bigint[], $3::text[]) AS w (user_key, client_session_id)
    JOIN user_metrics.sessions AS s
      ON s.user_key = w.user_key AND s.client_session_id = w.client_session_id
    WHERE cardinality($2::bigint[]) > 0 AND s.user_key = ANY ($2::bigint[])
    UNION ALL
    SELECT 'event', e.user_key, e.event_id, NULL, NULL
    FROM unnest($4::bigint[], $5::text[]) AS w (user_key, event_id)
    JOIN user_metrics.events AS e
      ON e.user_key = w.user_key AND e.event_id = w.event_id
    WHERE cardinality($4::bigint[]) > 0 AND e.user_key = ANY ($4::bigint[])
) AS found
UNION ALL
SELECT 'erased', f.user_key, NULL, NULL, (EXTRACT(epoch FROM f.forgotten_at) * 1000000)::bigint
FROM user_metrics.forgotten_users AS f
WHERE f.user_key = ANY ($1::bigint[])
