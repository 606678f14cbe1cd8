-- generate_weekly_report. $1: the end of the week; the week is [$1 - 7 days, $1),
-- with days counted in the session's TimeZone as PostgreSQL's interval arithmetic does.
SELECT u.email, u.name,
       count(*) AS session_count,
       sum(s.talked_time) AS total_talked_time,
       max(s.started_at) AS last_session_at
FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u ON u.user_key = s.user_key
WHERE s.started_at >= $1::timestamptz - interval '7 days'
  AND s.started_at < $1::timestamptz
GROUP BY u.user_key
ORDER BY total_talked_time DESC, u.email COLLATE "C"
