-- generate_activity_report over the sessions that started in [$1, $2): per
-- calendar day or week ($4, as in activity_periods) of their start in the time
-- zone $3, the sessions, their distinct users and their total talked time.
-- Periods without a session have no row here.
SELECT date_trunc($4::text, s.started_at AT TIME ZONE $3::text)::date AS period_start,
       count(*) AS session_count,
       count(DISTINCT s.user_key) AS user_count,
       sum(s.talked_time) AS total_talked_time
FROM user_metrics.sessions AS s
WHERE s.started_at >= $1::timestamptz
  AND s.started_at < $2::timestamptz
GROUP BY 1
ORDER BY 1
