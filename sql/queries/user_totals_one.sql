-- aggregate_user_metrics for one user. $1: e-mail, lower-cased as ingest_metrics stores it;
-- $2, $3: the half-open range [since, until) of session start times, NULL meaning
-- unbounded.
SELECT u.email, u.name,
       sum(s.talked_time) AS total_talked_time,
       count(*) AS session_count
FROM user_metrics.users AS u
JOIN user_metrics.sessions AS s ON s.user_id = u.id
WHERE u.email = $1::text
  AND s.started_at >= COALESCE($2::timestamptz, '-infinity')
  AND s.started_at < COALESCE($3::timestamptz, 'infinity')
GROUP BY u.id
