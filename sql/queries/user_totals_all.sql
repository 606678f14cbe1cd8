-- aggregate_user_metrics for every user. $1, $2: the half-open range [since, until)
-- of session start times, NULL meaning unbounded.
SELECT u.email, u.name,
       sum(s.talked_time) AS total_talked_time,
       count(*) AS session_count
FROM user_metrics.sessions AS s
JOIN user_metrics.users AS u ON u.user_key = s.user_key
WHERE s.started_at >= COALESCE($1::timestamptz, '-infinity')
  AND s.started_at < COALESCE($2::timestamptz, 'infinity')
GROUP BY u.user_key
ORDER BY u.email COLLATE "C"
