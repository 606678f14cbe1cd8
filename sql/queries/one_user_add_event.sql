-- On Citus, a call of one event: the event, by a single-row INSERT that Citus
-- routes to the user's shard. $1: the user key; $2: the event_id or NULL; $3: the
-- session's row id; $4: recorded_at, or NULL for now(); $5..$8: talked_time,
-- microphone_used, speaker_used, voice_sentiment. No row returned: the user
-- stored this event_id already (a concurrent call, after the call's first look).
INSERT INTO user_metrics.events
    (user_key, event_id, session_id, recorded_at, talked_time, microphone_used, speaker_used,
     voice_sentiment)
VALUES ($1::bigint, $2::text, $3::bigint, COALESCE($4::timestamptz, now()), $5::numeric,
        $6::boolean, $7::boolean, $8::numeric)
ON CONFLICT (user_key, event_id) DO NOTHING
RETURNING id
