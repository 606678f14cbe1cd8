-- On Citus, a call of one event in a new session: the session, created with the
-- event's totals, by a single-row INSERT that Citus routes to the user's shard.
-- $1: the user key; $2: the client's session id; $3..$11: the totals
-- (started_at, ended_at, device as JSON text, event_count, talked_time,
-- microphone_used, speaker_used, sentiment_sum, sentiment_count). Returns the
-- new row's id; no row: a concurrent call created the session first.
INSERT INTO user_metrics.sessions
    (user_key, client_session_id, started_at, ended_at, device, event_count, talked_time,
     microphone_used, speaker_used, sentiment_sum, sentiment_count)
VALUES ($1::bigint, $2::text, $3::timestamptz, $4::timestamptz, $5::jsonb, $6::bigint, $7::numeric,
        $8::boolean, $9::boolean, $10::numeric, $11::bigint)
ON CONFLICT (user_key, client_session_id) DO NOTHING
RETURNING id
