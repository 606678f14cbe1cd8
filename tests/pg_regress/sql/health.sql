-- health(): status, versions and exact counts.
SELECT h->>'status' AS status,
       h->>'version' = (SELECT extversion FROM pg_extension WHERE extname = 'user_metrics') AS version_matches,
       h->>'postgres' = current_setting('server_version') AS postgres_matches,
       ARRAY(SELECT jsonb_object_keys(h) ORDER BY 1) AS keys
FROM user_metrics.health() AS h;
