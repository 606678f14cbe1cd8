-- On Citus, a call of one event stored in an existing session (locked by
-- one_user_find.sql): the event's totals added to the session's, by an
-- UPDATE that Citus routes to the user's shard; the same rules as store.sql's
-- `added`. $1: the user key; $2: the session's row id; $3..$11: the totals, as in
-- one_user_add_session.sql.
UPDATE user_metrics.sessions AS s SET
    started_at      = LEAST(s.started_at, $3::timestamptz),
    ended_at        = GREATEST(s.ended_at, $4::timestamptz),
    device          = COALESCE(s.device, $5::jsonb),
    event_count     = s.event_count + $6::bigint,
    talked_time     = s.talked_time + $7::numeric,
    microphone_used = CASE WHEN $8::boolean IS NULL THEN s.microphone_used
                           ELSE COALESCE(s.microphone_used, false) OR $8::boolean END,
    speaker_used    = CASE WHEN $9::boolean IS NULL THEN s.speaker_used
                           ELSE COALESCE(s.speaker_used, false) OR $9::boolean END,
    sentiment_sum   = s.sentiment_sum + $10::numeric,
    sentiment_count = s.sentiment_count + $11::bigint
WHERE s.user_key = $1::bigint AND s.id = $2::bigint
RETURNING s.id
