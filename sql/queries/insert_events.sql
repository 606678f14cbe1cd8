-- One row per event, the arrays sorted by event_id (unnest yields them in order)
-- so that concurrent calls wait for each other's unique-index entries in the same
-- order. An event whose event_id is
-- already stored is skipped; the returned event_ids tell which were stored
-- (NULL for each stored event sent without one).
INSERT INTO user_metrics.events
    (event_id, session_id, recorded_at, talked_time, microphone_used, speaker_used, voice_sentiment)
SELECT e.event_id, e.session_id, COALESCE(e.recorded_at, now()), e.talked_time,
       e.microphone_used, e.speaker_used, e.voice_sentiment
FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::numeric[],
                       $5::boolean[], $6::boolean[], $7::numeric[])
     AS e (event_id, session_id, recorded_at, talked_time,
           microphone_used, speaker_used, voice_sentiment)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
