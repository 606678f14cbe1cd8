-- One row per session the batch may add to, sorted by user key and session id. A
-- session that does not exist yet is created with the totals of the batch's
-- events for it, so a new session is written once. One that exists is row-locked
-- and left as it is (add_to_sessions adds to it once the events are stored); its
-- row here carries no device, so no JSON is parsed for it. The arrays are sorted
-- and unnest yields them in order, so concurrent calls lock sessions in one order
-- and cannot deadlock.
-- Returns the sessions this call created.
-- The statement is the body of a WITH, and the rows it returns are read from
-- there: PostgreSQL's SPI checks that a statement with RETURNING returned as many
-- rows as it processed, and on a Citus distributed table that count also holds
-- the rows it skipped, so run bare it fails with "consistency check on SPI tuple
-- count failed" whenever it skips one.
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
)
SELECT * FROM sessions
