-- aggregate_user_metrics for one user. $1: the user's key (of the e-mail in the
-- canonical form ingest_metrics stores), which confines it to that user's rows
-- (on Citus, to one shard);
-- $2, $3: the half-open range [since, until) of session start times, NULL meaning
-- unbounded.
SELECT u.email, u.name,
       sum(s.talked_time) AS total_talked_time,
       count(*) AS session_count
FROM user_metrics.users AS u
JOIN user_metrics.sessions AS s ON s.user_key = u.user_key
WHERE u.user_key = $1::bigint AND s.user_key = $1::bigint
  AND s.started_at >= COALESCE($2::timestamptz, '-infinity')
  AND s.started_at < COALESCE($3::timestamptz, 'infinity')
GROUP BY u.user_key
