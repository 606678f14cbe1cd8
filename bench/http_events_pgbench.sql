-- scripts/bench_http.sh: the events of bench/http_events.lua, one per call, sent
-- to ingest_metrics over SQL by pgbench, without HTTP: what PostgreSQL alone
-- takes for them, beside the two servers' figures.
\set n random(1, 1000000000)
\set session random(0, 39999)
\set user :session % 10000
\set day 1 + :session % 28
\set hour :session % 24
\set talked :n % 600
SELECT user_metrics.ingest_metrics(format(
    '{"event_id":"sql-%s","user":{"email":"user%s@example.com","name":"User %s"},'
    '"session":{"id":"s-%s","started_at":"2026-11-%sT%s:00:00Z",'
    '"device":{"type":"phone","os":"Android 15","app_version":"3.4.1"}},'
    '"metrics":{"talked_time":%s.5,"microphone_used":true,"speaker_used":false,"voice_sentiment":0.3}}',
    :n::bigint, :user::int, :user::int, :session::int, lpad(:day::text, 2, '0'), lpad(:hour::text, 2, '0'),
    :talked::int)::jsonb);
