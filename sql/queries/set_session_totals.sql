-- Rewrites the totals of sessions this call created, when the events actually
-- stored differ from those the store statement assumed (an event that a
-- concurrent call stored first, or an owner that changed the batch's verdicts).
-- Every event of such a session is in this call, so the totals are exact.
UPDATE user_metrics.sessions AS s SET
    started_at      = t.started_at,
    ended_at        = t.ended_at,
    device          = t.device::jsonb,
    event_count     = t.event_count,
    talked_time     = t.talked_time,
    microphone_used = t.microphone_used,
    speaker_used    = t.speaker_used,
    sentiment_sum   = t.sentiment_sum,
    sentiment_count = t.sentiment_count
FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::text[],
            $6::bigint[], $7::numeric[], $8::boolean[], $9::boolean[],
            $10::numeric[], $11::bigint[])
     AS t (user_key, id, started_at, ended_at, device, event_count, talked_time,
           microphone_used, speaker_used, sentiment_sum, sentiment_count)
WHERE s.user_key = ANY ($1::bigint[])
  AND s.user_key = t.user_key AND s.id = t.id
