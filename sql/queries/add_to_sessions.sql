-- Folds the events this call stored into the running totals of sessions that
-- existed before the call: one row per session with the totals of its new events.
-- The sessions were locked by create_or_lock_sessions, so this cannot wait or
-- deadlock. A session's start is the earliest reported, its end the latest, its
-- device the first one reported. Unless the start moves, no indexed column changes
-- and the update is HOT.
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
FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::text[],
            $6::bigint[], $7::numeric[], $8::boolean[], $9::boolean[],
            $10::numeric[], $11::bigint[])
     AS t (user_key, id, started_at, ended_at, device, event_count, talked_time,
           microphone_used, speaker_used, sentiment_sum, sentiment_count)
WHERE s.user_key = ANY ($1::bigint[])
  AND s.user_key = t.user_key AND s.id = t.id
