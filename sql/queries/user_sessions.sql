-- get_user_sessions: the sessions of one user that started in [$2, $3) (NULL
-- meaning unbounded), in the columns of get_session_details, by start. $1: the
-- user's key, which confines it to that user's rows (on Citus, to one shard).
SELECT s.client_session_id AS session_id, u.email, u.name, s.started_at, s.ended_at,
       (EXTRACT(epoch FROM s.ended_at) - EXTRACT(epoch FROM s.started_at))::double precision
           AS duration_seconds,
       s.device, s.talked_time, s.event_count, s.microphone_used, s.speaker_used,
       CASE WHEN s.sentiment_count > 0
            THEN (s.sentiment_sum / s.sentiment_count)::double precision END
           AS avg_voice_sentiment
FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u ON u.user_key = s.user_key
WHERE s.user_key = $1::bigint AND u.user_key = $1::bigint
  AND s.started_at >= COALESCE($2::timestamptz, '-infinity')
  AND s.started_at < COALESCE($3::timestamptz, 'infinity')
ORDER BY s.started_at, s.client_session_id COLLATE "C"
