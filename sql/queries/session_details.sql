-- get_session_details with the e-mail. $1: the client's session id; $2: the
-- user's key. At most one row, read from the user's rows only (on Citus, from
-- one shard).
SELECT s.client_session_id AS session_id, u.email, u.name, s.started_at, s.ended_at,
       (EXTRACT(epoch FROM s.ended_at) - EXTRACT(epoch FROM s.started_at))::double precision
           AS duration_seconds,
       s.device, s.talked_time, s.event_count, s.microphone_used, s.speaker_used,
       CASE WHEN s.sentiment_count > 0
            THEN (s.sentiment_sum / s.sentiment_count)::double precision END
           AS avg_voice_sentiment
FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u ON u.user_key = s.user_key
WHERE s.user_key = $2::bigint AND u.user_key = $2::bigint
  AND s.client_session_id = $1::text
