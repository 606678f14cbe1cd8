-- One row per event, the arrays sorted by user key and event_id (unnest yields
-- them in order) so that concurrent calls wait for each other's unique-index
-- entries in the same order. An event whose event_id its user already stored is
-- skipped; the returned (user_key, event_id) pairs tell which were stored (a NULL
-- event_id for each stored event sent without one).
-- The statement is the body of a WITH, and the rows it returns are read from
-- there: PostgreSQL's SPI checks that a statement with RETURNING returned as many
-- rows as it processed, and on a Citus distributed table that count also holds
-- the rows it skipped, so run bare it fails with "consistency check on SPI tuple
-- count failed" whenever it skips one.
WITH stored AS (
    INSERT INTO user_metrics.events
        (user_key, event_id, session_id, recorded_at, talked_time, microphone_used, speaker_used,
         voice_sentiment)
    SELECT e.user_key, e.event_id, e.session_id, COALESCE(e.recorded_at, now()), e.talked_time,
           e.microphone_used, e.speaker_used, e.voice_sentiment
    FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::timestamptz[], $5::numeric[],
                $6::boolean[], $7::boolean[], $8::numeric[])
         AS e (user_key, event_id, session_id, recorded_at, talked_time,
               microphone_used, speaker_used, voice_sentiment)
    ON CONFLICT (user_key, event_id) DO NOTHING
    RETURNING user_key, event_id
)
SELECT * FROM stored
