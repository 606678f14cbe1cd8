-- generate_weekly_report over the sessions that started in [$1, $2), per user:
-- session count, total talked time and the latest start. The bounds come from
-- week_bounds, or for a week of local days reports::calendar.
SELECT u.email, u.name,
       count(*) AS session_count,
       sum(s.talked_time) AS total_talked_time,
       max(s.started_at) AS last_session_at
FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u ON u.user_key = s.user_key
WHERE s.started_at >= $1::timestamptz
  AND s.started_at < $2::timestamptz
GROUP BY u.user_key
ORDER BY total_talked_time DESC, u.email COLLATE "C"
