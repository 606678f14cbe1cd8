-- A call of one event, stored in this one statement: the seed's own shape (one
-- event per request) costs one statement start, not the four of the general path
-- (lookup, users, store, counters), whose plans are built for arrays of any
-- length. The caller then adds the call to its counters and statistics, which
-- it changes in place (ingest_stats::record_one_event_in_place), not with a
-- statement.
--
-- $1: the user key; $2: the e-mail in canonical form; $3: the event's user name
-- or NULL; $4: the client's session id; $5..$13: what the event adds to its
-- session (started_at, ended_at, device as JSON text, event_count,
-- talked_time, microphone_used, speaker_used, sentiment_sum, sentiment_count);
-- $14..$19: the event (event_id or NULL, recorded_at or NULL for now(),
-- talked_time, microphone_used, speaker_used, voice_sentiment).
--
-- It stores only what it can store exactly as the general path would; for any
-- other case (`checks.fits` false, or no `session`) it writes nothing, returns
-- recorded and has_session false, and the caller runs the general path:
-- - an erased user (forgotten_users: whether the event is kept depends on its
--   session's start), a key that another e-mail holds, a new name for the user;
-- - a user or session that a concurrent call created after this statement's
--   snapshot (the INSERT skips it, and nothing follows from it).
-- A repeat (the user stored this event_id before) writes nothing and returns
-- recorded: the caller counts a duplicate.
--
-- Locks, in the general path's order (see store.sql), so that the two never
-- deadlock: the new user's key, then the session (an existing one row-locked by
-- `locked`, a new one created with the event's totals), then the event's
-- unique-index entry, then the session's totals; the caller's counters come
-- after. The CTEs run in that order: the final SELECT reads `stored` first,
-- which reads `session` (first `locked`, then `new_session`, which reads
-- `new_user`); then `added`.
--
-- Each of its parts gives at most one row, so "whether it gave one" (EXISTS) is
-- what the result reads, not count(*): an aggregate is one more node for the
-- executor to set up at every call, and a call of one event is mostly that
-- setting up (3% more calls per second without the seven aggregates: README,
-- Performance, change 11).
--
-- If a concurrent call stores the same event_id first (after this statement's
-- snapshot), the INSERT of the event skips it and `stored` is empty although a
-- session (and a user) may have been created: recorded is false, and the caller
-- removes what was created for nothing (delete_sessions, delete_unused_users)
-- and records the call as a repeat.
WITH known AS (
    SELECT u.email, u.name FROM user_metrics.users AS u WHERE u.user_key = $1::bigint
),
checks AS (
    SELECT NOT EXISTS (SELECT FROM user_metrics.forgotten_users AS f WHERE f.user_key = $1::bigint)
           AND NOT EXISTS (SELECT FROM known AS k
                           WHERE k.email <> $2::text
                              OR ($3::text IS NOT NULL AND k.name IS DISTINCT FROM $3::text)) AS fits,
           EXISTS (SELECT FROM user_metrics.events AS e
                   WHERE $14::text IS NOT NULL AND e.user_key = $1::bigint AND e.event_id = $14::text)
           AS repeat
),
go AS (
    SELECT FROM checks AS c WHERE c.fits AND NOT c.repeat
),
new_user AS (
    INSERT INTO user_metrics.users (user_key, email, name)
    SELECT $1::bigint, $2::text, $3::text FROM go WHERE NOT EXISTS (SELECT FROM known)
    ON CONFLICT (user_key) DO NOTHING
    RETURNING user_key
),
locked AS (
    SELECT s.id FROM user_metrics.sessions AS s
    WHERE s.user_key = $1::bigint AND s.client_session_id = $4::text AND EXISTS (SELECT FROM go)
    FOR NO KEY UPDATE
),
new_session AS (
    INSERT INTO user_metrics.sessions
        (user_key, client_session_id, started_at, ended_at, device, event_count, talked_time,
         microphone_used, speaker_used, sentiment_sum, sentiment_count)
    SELECT $1::bigint, $4::text, $5::timestamptz, $6::timestamptz, $7::jsonb, $8::bigint, $9::numeric,
           $10::boolean, $11::boolean, $12::numeric, $13::bigint
    FROM go
    WHERE NOT EXISTS (SELECT FROM locked)
      AND (EXISTS (SELECT FROM known) OR EXISTS (SELECT FROM new_user))
    ON CONFLICT (user_key, client_session_id) DO NOTHING
    RETURNING id
),
session AS (
    SELECT l.id FROM locked AS l
    UNION ALL
    SELECT n.id FROM new_session AS n
),
stored AS (
    INSERT INTO user_metrics.events
        (user_key, event_id, session_id, recorded_at, talked_time, microphone_used, speaker_used,
         voice_sentiment)
    SELECT $1::bigint, $14::text, s.id, COALESCE($15::timestamptz, now()), $16::numeric,
           $17::boolean, $18::boolean, $19::numeric
    FROM session AS s
    ON CONFLICT (user_key, event_id) DO NOTHING
    RETURNING session_id
),
added AS (
    UPDATE user_metrics.sessions AS s SET
        started_at      = LEAST(s.started_at, $5::timestamptz),
        ended_at        = GREATEST(s.ended_at, $6::timestamptz),
        device          = COALESCE(s.device, $7::jsonb),
        event_count     = s.event_count + $8::bigint,
        talked_time     = s.talked_time + $9::numeric,
        microphone_used = CASE WHEN $10::boolean IS NULL THEN s.microphone_used
                               ELSE COALESCE(s.microphone_used, false) OR $10::boolean END,
        speaker_used    = CASE WHEN $11::boolean IS NULL THEN s.speaker_used
                               ELSE COALESCE(s.speaker_used, false) OR $11::boolean END,
        sentiment_sum   = s.sentiment_sum + $12::numeric,
        sentiment_count = s.sentiment_count + $13::bigint
    FROM locked AS l, stored AS e
    WHERE s.user_key = $1::bigint AND s.id = l.id
    RETURNING s.id
)
SELECT EXISTS (SELECT FROM stored) AS stored,
       EXISTS (SELECT FROM session) AS has_session,
       EXISTS (SELECT FROM added) AS added,
       (SELECT n.id FROM new_session AS n) AS created_session,
       EXISTS (SELECT FROM new_user) AS created_user,
       EXISTS (SELECT FROM checks AS k
               WHERE k.fits AND (k.repeat OR EXISTS (SELECT FROM stored))) AS recorded
