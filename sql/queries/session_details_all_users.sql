-- get_session_details without an e-mail. $1: the client's session id. Every
-- user's session of that id (session ids are unique per user), by e-mail.
SELECT s.client_session_id AS session_id, u.email, u.name, s.started_at, s.ended_at,
       (EXTRACT(epoch FROM s.ended_at) - EXTRACT(epoch FROM s.started_at))::double precision
           AS duration_seconds,
       s.device, s.talked_time, s.event_count, s.microphone_used, s.speaker_used,
       CASE WHEN s.sentiment_count > 0
            THEN (s.sentiment_sum / s.sentiment_count)::double precision END
           AS avg_voice_sentiment
FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u ON u.user_key = s.user_key
WHERE s.client_session_id = $1::text
ORDER BY u.email COLLATE "C"
