-- get_session_details. $1: the client's session id.
SELECT s.client_session_id, u.email, u.name, s.started_at, s.ended_at,
       (EXTRACT(epoch FROM s.ended_at) - EXTRACT(epoch FROM s.started_at))::double precision,
       s.device, s.talked_time, s.event_count, s.microphone_used, s.speaker_used,
       CASE WHEN s.sentiment_count > 0
            THEN (s.sentiment_sum / s.sentiment_count)::double precision END
FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u ON u.id = s.user_id
WHERE s.client_session_id = $1::text
