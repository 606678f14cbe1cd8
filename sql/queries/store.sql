-- The sessions and events of a batch, in one statement: every session locked (a
-- new one created with the totals of its events in the batch), then the events
-- inserted, then the existing sessions' totals added to.
--
-- sessions: $1..$11, one row per session the batch stores events in, new or
-- existing, sorted by user key and session id, so that concurrent calls lock
-- sessions in one order and cannot deadlock. A new one is created with the
-- totals of the batch's events for it (so a new session is written once); an
-- existing one is row-locked and left as it is, and its row carries no device,
-- so no JSON is parsed for it. Returns the sessions this call created.
-- $12: how many sessions the call expects to create. A session that a concurrent
-- call created after the lookup is locked here but not returned; then no event is
-- inserted (the caller looks its id up, now that it holds the lock, and runs the
-- statement again), so that every session is locked before any event.
--
-- stored: $13..$21, one row per event to store, sorted by user key and event_id
-- (kept by ORDER BY) so that concurrent calls wait for each other's unique-index
-- entries in one order. $15 is the session's row id when it existed before the
-- call, NULL for a session created above, found by (user key, session id $16).
-- An event whose event_id its user already stored is skipped; the returned rows
-- tell which were stored (a NULL event_id for each event sent without one).
--
-- added: $22..$32, one row per existing session with the totals of the batch's
-- events for it, added only if the statement stored $33 events, every one it was
-- given (the usual case). If a concurrent call stored some of them first, nothing
-- is added here: the caller runs the statement again with only these rows,
-- holding the exact totals of the events stored, and $33 = 0. The sessions were
-- locked above, so this does not wait. A session's start is the earliest
-- reported, its end the latest, its device the first one reported. Unless the
-- start moves, no indexed column changes and the update is HOT.
--
-- The UNION ALL at the end reads the three in this order, each to its end: every
-- session is locked before the first event is inserted, and every event is
-- inserted before totals are added. $34: whether the server runs Citus; on Citus
-- each statement names the users it concerns (`user_key = ANY`), so that it
-- reaches only their shards, and none for an empty list (see lookup_citus.sql).
-- The statements are bodies of WITHs, and their rows are read from there: see
-- write_users.sql.
WITH sessions AS (
    INSERT INTO user_metrics.sessions AS s
        (user_key, client_session_id, started_at, ended_at, device, event_count, talked_time,
         microphone_used, speaker_used, sentiment_sum, sentiment_count)
    SELECT t.user_key, t.client_session_id, t.started_at, t.ended_at, t.device::jsonb, t.event_count,
           t.talked_time, t.microphone_used, t.speaker_used, t.sentiment_sum, t.sentiment_count
    FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[],
                $6::bigint[], $7::numeric[], $8::boolean[], $9::boolean[],
                $10::numeric[], $11::bigint[])
         AS t (user_key, client_session_id, started_at, ended_at, device, event_count, talked_time,
               microphone_used, speaker_used, sentiment_sum, sentiment_count)
    ON CONFLICT (user_key, client_session_id) DO UPDATE SET started_at = s.started_at
        WHERE false  -- lock the existing row, change nothing
    RETURNING s.user_key, s.client_session_id, s.id
),
stored AS (
    INSERT INTO user_metrics.events
        (user_key, event_id, session_id, recorded_at, talked_time, microphone_used, speaker_used,
         voice_sentiment)
    SELECT e.user_key, e.event_id, COALESCE(e.session_id, n.id), COALESCE(e.recorded_at, now()),
           e.talked_time, e.microphone_used, e.speaker_used, e.voice_sentiment
    FROM unnest($13::bigint[], $14::text[], $15::bigint[], $16::text[], $17::timestamptz[],
                $18::numeric[], $19::boolean[], $20::boolean[], $21::numeric[])
         WITH ORDINALITY AS e (user_key, event_id, session_id, client_session_id, recorded_at,
                               talked_time, microphone_used, speaker_used, voice_sentiment, n)
    LEFT JOIN sessions AS n
      ON n.user_key = e.user_key AND n.client_session_id = e.client_session_id
    WHERE COALESCE(e.session_id, n.id) IS NOT NULL
      AND (SELECT count(*) FROM sessions) = $12::bigint
    ORDER BY e.n
    ON CONFLICT (user_key, event_id) DO NOTHING
    RETURNING user_key, event_id, session_id
),
added AS (
    UPDATE user_metrics.sessions AS s SET
        started_at      = LEAST(s.started_at, t.started_at),
        ended_at        = GREATEST(s.ended_at, t.ended_at),
        device          = COALESCE(s.device, t.device::jsonb),
        event_count     = s.event_count + t.event_count,
        talked_time     = s.talked_time + t.talked_time,
        microphone_used = CASE WHEN t.microphone_used IS NULL THEN s.microphone_used
                               ELSE COALESCE(s.microphone_used, false) OR t.microphone_used END,
        speaker_used    = CASE WHEN t.speaker_used IS NULL THEN s.speaker_used
                               ELSE COALESCE(s.speaker_used, false) OR t.speaker_used END,
        sentiment_sum   = s.sentiment_sum + t.sentiment_sum,
        sentiment_count = s.sentiment_count + t.sentiment_count
    FROM unnest($22::bigint[], $23::bigint[], $24::timestamptz[], $25::timestamptz[], $26::text[],
                $27::bigint[], $28::numeric[], $29::boolean[], $30::boolean[],
                $31::numeric[], $32::bigint[])
         AS t (user_key, id, started_at, ended_at, device, event_count, talked_time,
               microphone_used, speaker_used, sentiment_sum, sentiment_count)
    WHERE cardinality($22::bigint[]) > 0 AND (NOT $34::boolean OR s.user_key = ANY ($22::bigint[]))
      AND s.user_key = t.user_key AND s.id = t.id
      AND (SELECT count(*) FROM stored) = $33::bigint
    RETURNING s.user_key, s.id
)
SELECT 'session' AS kind, c.user_key, c.client_session_id AS text, c.id AS number FROM sessions AS c
UNION ALL
SELECT 'event', e.user_key, e.event_id, e.session_id FROM stored AS e
UNION ALL
SELECT 'added', a.user_key, NULL, a.id FROM added AS a
